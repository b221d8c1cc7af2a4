"""Customer files (one per customer): lookup by number, screen pop, edits, CSV import, audit."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from console.core import numbers
from console.core.errors import DomainError
from console.core.models import GRADES, AuditLog, Call, Customer, CustomerPhone, User, utcnow

LAST_CALLS = 5
# Limits of a customer file, the same for the API and the CSV import (the OpenAPI schema
# CustomerInput states them too). The name matches its VARCHAR(128) column.
NAME_MAX = 128
NOTES_MAX = 10_000
PHONES_MAX = 10
PHONE_INPUT_MAX = 64  # one number as typed, before normalisation
FIELDS_MAX = 50
FIELD_NAME_MAX = 64
FIELD_VALUE_MAX = 1_000
_FIELD_VALUE_TYPES = (str, int, float, bool, type(None))
# The advisory lock that orders writers adding phone numbers (PostgreSQL); any fixed 64-bit
# number no other part of Hotline uses.
_PHONE_CLAIM_LOCK = 0x486C_5068_6F6E_6531


def audit(
    session: Session, user_id: int | None, action: str, obj: str, obj_id: object, **detail: Any
) -> None:
    """Append one audit entry (who saw or changed which record)."""
    session.add(
        AuditLog(
            user_id=user_id, action=action, object_type=obj, object_id=str(obj_id), detail=detail
        )
    )


def find_by_number(session: Session, number: str) -> list[Customer]:
    """Customers owning this canonical number, most recently updated first."""
    stmt = (
        select(Customer)
        .join(CustomerPhone)
        .where(CustomerPhone.number == number)
        .order_by(Customer.updated_at.desc())
    )
    return list(session.scalars(stmt).unique())


@dataclass(frozen=True)
class CustomerFile:
    """A customer with the calls its file shows (``last_calls`` None: not loaded)."""

    customer: Customer
    last_calls: list[Call] | None = None


def last_calls(session: Session, customer_id: int) -> list[Call]:
    """The customer's last ended calls, newest first."""
    return list(
        session.scalars(
            select(Call)
            .where(Call.customer_id == customer_id, Call.ended_at.is_not(None))
            .order_by(Call.arrived_at.desc())
            .limit(LAST_CALLS)
        )
    )


def customer_file(session: Session, c: Customer, with_calls: bool = True) -> CustomerFile:
    """The customer with the last calls the browser shows (schemas.customer_dict)."""
    return CustomerFile(c, last_calls(session, c.id) if with_calls else None)


def for_caller(session: Session, number: str) -> list[CustomerFile]:
    """The customers owning a caller number, with what the agent's card shows of them."""
    return [customer_file(session, c) for c in find_by_number(session, number)]


@dataclass(frozen=True)
class CustomerData:
    """A validated customer file, ready to store."""

    name: str
    grade: str
    phones: list[str]
    notes: str
    fields: dict[str, Any]


class CustomerFieldError(DomainError):
    """A DomainError about one field of a customer file (reported per column on import)."""

    def __init__(self, field: str, error_id: str, detail: str = "") -> None:
        super().__init__(error_id, detail)
        self.field = field


def _check(
    data: dict[str, Any], country_code: str, keep: Iterable[str] = ()
) -> tuple[CustomerData, list[CustomerFieldError]]:
    """The cleaned customer and every problem found (empty when it may be stored).

    Numbers in `keep` (already on the file being edited) are taken as stored, so a number
    saved before today's rules does not block an edit of another field.
    """
    problems: list[CustomerFieldError] = []

    def bad(field: str, error_id: str, detail: str = "") -> None:
        problems.append(CustomerFieldError(field, error_id, detail))

    raw_name = data.get("name")
    name = ("" if raw_name is None else str(raw_name)).strip()
    if not name:
        bad("name", "name-required")
    elif len(name) > NAME_MAX:
        bad("name", "too-long", str(NAME_MAX))
    grade = str(data.get("grade") or "C").strip().upper()
    if grade not in GRADES:
        bad("grade", "invalid-grade")
    raw_phones = data.get("phones") or []
    if isinstance(raw_phones, str):
        raw_phones = re.split(r"[;,/]", raw_phones)
    elif not isinstance(raw_phones, list):
        bad("phones", "invalid-input", "phones")
        raw_phones = []
    kept = set(keep)
    phones: list[str] = []
    for p in raw_phones:
        typed = str(p).strip()
        if not typed:
            continue
        if len(typed) > PHONE_INPUT_MAX:
            bad("phones", "invalid-phone", typed[:PHONE_INPUT_MAX] + "…")
            continue
        try:
            n = typed if typed in kept else numbers.normalize(typed, country_code)
        except ValueError:
            bad("phones", "invalid-phone", typed)
            continue
        if n not in phones:
            phones.append(n)
    if len(phones) > PHONES_MAX:
        bad("phones", "too-many", str(PHONES_MAX))
    raw_notes = data.get("notes")
    notes = "" if raw_notes is None else str(raw_notes)
    if len(notes) > NOTES_MAX:
        bad("notes", "too-long", str(NOTES_MAX))
    raw_fields = data.get("fields") or {}
    fields: dict[str, Any] = {}
    if not isinstance(raw_fields, dict):
        bad("fields", "invalid-input", "fields")
    elif len(raw_fields) > FIELDS_MAX:
        bad("fields", "too-many", str(FIELDS_MAX))
    else:
        for k, v in raw_fields.items():
            key = str(k)
            if not key.strip() or len(key) > FIELD_NAME_MAX:
                bad("fields", "invalid-field-name", key[:FIELD_NAME_MAX])
            elif not isinstance(v, _FIELD_VALUE_TYPES):
                bad(key, "invalid-input", key)
            elif isinstance(v, str) and len(v) > FIELD_VALUE_MAX:
                bad(key, "too-long", str(FIELD_VALUE_MAX))
            else:
                fields[key] = v
    return CustomerData(name, grade, phones, notes, fields), problems


def _validate(data: dict[str, Any], country_code: str, keep: Iterable[str] = ()) -> CustomerData:
    clean, problems = _check(data, country_code, keep)
    if problems:
        raise problems[0]
    return clean


def _claim_phones(session: Session) -> None:
    # No unique index on customer_phones.number (older files may share one), so two writers
    # could both see a number free and both store it. On PostgreSQL one transaction-scoped
    # advisory lock orders every writer that adds numbers; SQLite allows a single writer.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PHONE_CLAIM_LOCK})


def _owners(session: Session, phones: Iterable[str]) -> dict[str, int]:
    """The customer owning each of these numbers (the oldest, if older files share it)."""
    wanted = list(dict.fromkeys(phones))
    owners: dict[str, int] = {}
    for i in range(0, len(wanted), 500):
        rows = session.execute(
            select(CustomerPhone.number, CustomerPhone.customer_id)
            .where(CustomerPhone.number.in_(wanted[i : i + 500]))
            .order_by(CustomerPhone.customer_id)
        )
        for number, customer_id in rows:
            owners.setdefault(number, customer_id)
    return owners


def _refuse_taken(session: Session, phones: list[str]) -> None:
    if not phones:
        return
    _claim_phones(session)
    owners = _owners(session, phones)
    for n in phones:
        if n in owners:
            # One number pops one file: a second owner would show the agent two customers.
            raise CustomerFieldError("phones", "phone-taken", n)


def _add(session: Session, user_id: int | None, clean: CustomerData) -> Customer:
    c = Customer(name=clean.name, grade=clean.grade, notes=clean.notes, fields=clean.fields)
    c.phones = [CustomerPhone(number=n) for n in clean.phones]
    session.add(c)
    session.flush()
    audit(session, user_id, "create", "customer", c.id)
    return c


def create_customer(
    session: Session, user: User | None, data: dict[str, Any], country_code: str = "86"
) -> Customer:
    """A new customer file; validated before anything is written."""
    clean = _validate(data, country_code)
    _refuse_taken(session, clean.phones)
    return _add(session, user.id if user else None, clean)


def update_customer(
    session: Session, user: User, customer_id: int, data: dict[str, Any], country_code: str = "86"
) -> Customer:
    """Change a customer file; the audit entry lists the changed fields."""
    c = session.get(Customer, customer_id)
    if c is None:
        raise DomainError("not-found")
    old_phones = [p.number for p in c.phones]
    merged = {
        "name": data.get("name", c.name),
        "grade": data.get("grade", c.grade),
        "phones": data.get("phones", old_phones),
        "notes": data.get("notes", c.notes),
        "fields": data.get("fields", c.fields),
    }
    clean = _validate(merged, country_code, keep=old_phones)
    _refuse_taken(session, [n for n in clean.phones if n not in old_phones])
    name, grade, phones, notes, fields = (
        clean.name,
        clean.grade,
        clean.phones,
        clean.notes,
        clean.fields,
    )
    changed = [
        k
        for k, old, new in (
            ("name", c.name, name),
            ("grade", c.grade, grade),
            ("phones", [p.number for p in c.phones], phones),
            ("notes", c.notes, notes),
            ("fields", c.fields, fields),
        )
        if old != new
    ]
    c.name, c.grade, c.notes, c.fields = name, grade, notes, fields
    existing = {p.number: p for p in c.phones}
    c.phones = [existing.get(n) or CustomerPhone(number=n) for n in phones]
    c.updated_at = utcnow()
    session.flush()
    audit(session, user.id, "update", "customer", c.id, fields=changed)
    return c


def get_customer(session: Session, user: User, customer_id: int) -> CustomerFile:
    """One customer file; the read is audited."""
    c = session.get(Customer, customer_id)
    if c is None:
        raise DomainError("not-found")
    audit(session, user.id, "view", "customer", c.id)
    return customer_file(session, c)


# --- CSV import -------------------------------------------------------------------------

_KNOWN_COLUMNS = {
    "name": "name",
    "phones": "phones",
    "phone": "phones",
    "grade": "grade",
    "notes": "notes",
}
# Column labels in the catalog; registration-field columns are shown by their header name.
COLUMN_LABELS = {
    "name": "customer.name",
    "phones": "customer.phones",
    "grade": "card.grade",
    "notes": "customer.notes",
}


@dataclass(frozen=True)
class ImportProblem:
    """One bad line of an import file: where, which column, which error (catalog id)."""

    line: int
    column: str  # the header's name; "" when the whole line is wrong
    error_id: str
    detail: str = ""
    other_line: int = 0  # the earlier line a repeated number is on


class CustomerImportError(DomainError):
    """The import file is refused as a whole; every problem found is listed."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__("csv-invalid", ", ".join(str(p.line) for p in problems[:20]))
        self.problems = problems

    def rows(self) -> list[dict[str, object]]:
        """Each problem's line, column and error id (the web layer adds its message)."""
        return [{"line": p.line, "column": p.column, "error": p.error_id} for p in self.problems]

    def data(self) -> dict[str, object]:
        return {"problems": self.rows()}


def decode_csv(data: bytes) -> str:
    """The text of an import file: UTF-8 (with or without BOM), else GB18030.

    Spreadsheets in Chinese centres often save GB18030/GBK. A file that is UTF-8 but for a
    few broken bytes is refused rather than read as GB18030, which would turn every
    Chinese name into other characters without any error.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\0" in data:
        raise CustomerImportError([ImportProblem(1, "", "csv-not-text")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        first_bad = err.start
    loose = data.decode("utf-8", errors="replace")
    broken = loose.count("\ufffd")
    valid_wide = sum(1 for ch in loose if ord(ch) > 0x7F) - broken
    if valid_wide > broken:
        line = data[:first_bad].count(b"\n") + 1
        raise CustomerImportError(
            [ImportProblem(line, "", "csv-bad-utf8", f"0x{data[first_bad]:02X}")]
        )
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CustomerImportError([ImportProblem(line, "", "csv-encoding")]) from None


def _records(
    lines: list[str], spans_ok: Callable[[list[str]], bool]
) -> Iterator[tuple[int, list[str] | None]]:
    """(first line number, values) per CSV record; values None when its quoting is broken.

    A record is broken when the csv module refuses it (a quote never closed, text after a
    closing quote) or when it spans lines where only a notes value may. Reading starts again
    on the line after its first line, so one stray quote costs that line only and every
    later line is still checked instead of being swallowed into the broken value.
    """
    i = 0
    while i < len(lines):
        reader = csv.reader(itertools.islice(lines, i, None), strict=True)
        done = 0  # lines this reader has consumed
        restart = None
        try:
            for values in reader:
                start = i + done + 1
                span, done = reader.line_num - done, reader.line_num
                if span > 1 and not spans_ok(values):
                    restart = start
                    break
                yield start, values
        except csv.Error:
            restart = i + done + 1
        if restart is None:
            return
        yield restart, None
        i = restart


def _parse(
    text: str, country_code: str
) -> tuple[list[tuple[int, CustomerData]], list[ImportProblem]]:
    lines = list(io.StringIO(text, newline=""))
    problems: list[ImportProblem] = []
    header: list[str] | None = None
    notes_at: int | None = None
    rows: list[tuple[int, CustomerData]] = []
    first_seen: dict[str, int] = {}

    def spans_ok(values: list[str]) -> bool:
        return all(j == notes_at or ("\n" not in v and "\r" not in v) for j, v in enumerate(values))

    for line, values in _records(lines, spans_ok):
        if values is None:
            problems.append(ImportProblem(line, "", "csv-quote"))
            if header is None:
                return rows, problems
            continue
        if not any(v.strip() for v in values):
            continue  # blank lines, and the ",,,," rows spreadsheets leave at the end
        if header is None:
            header = [_KNOWN_COLUMNS.get(h.strip().lower(), h.strip()) for h in values]
            for j, h in enumerate(header):
                if h and h in header[:j]:
                    problems.append(ImportProblem(line, h, "csv-duplicate-column"))
            if "name" not in header:
                problems.append(ImportProblem(line, "", "csv-no-name"))
            if problems:
                return rows, problems
            notes_at = header.index("notes") if "notes" in header else None
            continue
        if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
            problems.append(
                ImportProblem(line, "", "csv-columns", f"{len(values)} > {len(header)}")
            )
            continue
        row = dict(
            zip(header, values, strict=False)
        )  # short rows: missing trailing values are empty
        if any(v.strip() for h, v in row.items() if not h):
            problems.append(ImportProblem(line, "", "csv-unnamed-column"))
            continue
        data = {
            "name": row.get("name", ""),
            "phones": row.get("phones", ""),
            "grade": row.get("grade") or "C",
            "notes": row.get("notes", ""),
            "fields": {h: v for h, v in row.items() if h and h not in COLUMN_LABELS},
        }
        clean, errors = _check(data, country_code)
        problems += [ImportProblem(line, e.field, e.error_id, e.detail) for e in errors]
        for n in clean.phones:
            if n in first_seen:
                problems.append(ImportProblem(line, "phones", "phone-repeated", n, first_seen[n]))
            else:
                first_seen[n] = line
        if not errors:
            rows.append((line, clean))
    if header is None:
        problems.append(ImportProblem(1, "", "csv-no-name"))
    return rows, problems


def import_csv(session: Session, content: str | bytes, country_code: str = "86") -> int:
    """Import customers from CSV (name, phones, grade, notes, other columns → fields).

    All or nothing: the whole file is checked first (encoding, quoting, every field, numbers
    repeated in the file or owned by an existing customer); any problem raises a
    CustomerImportError listing each bad line, and nothing is written.
    """
    body = decode_csv(content) if isinstance(content, bytes) else content.lstrip("\ufeff")
    rows, problems = _parse(body, country_code)
    if rows:
        _claim_phones(session)
        owners = _owners(session, (n for _, clean in rows for n in clean.phones))
        problems += [
            ImportProblem(line, "phones", "phone-taken", n)
            for line, clean in rows
            for n in clean.phones
            if n in owners
        ]
    if problems:
        raise CustomerImportError(sorted(problems, key=lambda p: p.line))
    for _, clean in rows:
        _add(session, None, clean)
    return len(rows)


def user_row(session: Session, user_id: int) -> User:
    """The signed-in user's row (it exists: she is signed in), for audit entries."""
    return session.get_one(User, user_id)


def attach_to_call(
    session: Session, c: Customer, call_id: str, agent_id: int | None, offered: str | None
) -> None:
    """Make c the call's customer unless it has one. An agent (agent_id given) may only touch
    a call she took or the call offered to her now (offered)."""
    call = session.get(Call, call_id)
    if call is None:
        raise DomainError("call-not-found")
    if agent_id is not None and call.agent_id != agent_id and offered != call.id:
        raise DomainError("call-not-offered")
    if call.customer_id is None:
        call.customer_id = c.id
