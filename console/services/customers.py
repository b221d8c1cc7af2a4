"""Customer files (一户一档): lookup by number, screen pop, edits, CSV import, audit."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from console import numbers
from console.i18n import DomainError
from console.models import GRADES, AuditLog, Call, Customer, CustomerPhone, User, utcnow

LAST_CALLS = 5


def audit(
    session: Session, user_id: int | None, action: str, obj: str, obj_id: object, **detail: Any
) -> None:
    """Append one audit entry (who saw or changed which record)."""
    session.add(
        AuditLog(user_id=user_id, action=action, object_type=obj, object_id=str(obj_id), detail=detail)
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


def customer_dict(session: Session, c: Customer, with_calls: bool = True) -> dict[str, Any]:
    """The customer as the browser sees it."""
    data: dict[str, Any] = {
        "id": c.id,
        "name": c.name,
        "grade": c.grade,
        "phones": [p.number for p in c.phones],
        "fields": c.fields or {},
        "notes": c.notes,
    }
    if with_calls:
        calls = session.scalars(
            select(Call)
            .where(Call.customer_id == c.id, Call.ended_at.is_not(None))
            .order_by(Call.arrived_at.desc())
            .limit(LAST_CALLS)
        )
        data["last_calls"] = [
            {
                "id": call.id,
                "arrived_at": call.arrived_at.isoformat(),
                "disposition": call.disposition_code,
                "end_reason": call.end_reason,
                "notes": call.notes,
            }
            for call in calls
        ]
    return data


def screen_pop(session: Session, number: str) -> dict[str, Any]:
    """Everything the agent's card shows about a caller number."""
    return {
        "number": number,
        "customers": [customer_dict(session, c) for c in find_by_number(session, number)],
    }


def _validate(data: dict[str, Any], country_code: str) -> tuple[str, str, list[str], str, dict[str, Any]]:
    name = str(data.get("name", "")).strip()
    if not name:
        raise DomainError("name-required")
    grade = str(data.get("grade") or "C").strip().upper()
    if grade not in GRADES:
        raise DomainError("invalid-grade")
    raw_phones = data.get("phones") or []
    if isinstance(raw_phones, str):
        raw_phones = [p for p in raw_phones.replace("/", ";").replace(",", ";").split(";")]
    phones: list[str] = []
    for p in raw_phones:
        if not str(p).strip():
            continue
        try:
            n = numbers.normalize(str(p), country_code)
        except ValueError:
            raise DomainError("invalid-phone", str(p)) from None
        if n not in phones:
            phones.append(n)
    fields = data.get("fields") or {}
    if not isinstance(fields, dict):
        raise DomainError("invalid-input", "fields")
    return name, grade, phones, str(data.get("notes") or ""), {str(k): v for k, v in fields.items()}


def create_customer(
    session: Session, user: User | None, data: dict[str, Any], country_code: str = "86"
) -> Customer:
    """A new customer file; validated before anything is written."""
    name, grade, phones, notes, fields = _validate(data, country_code)
    c = Customer(name=name, grade=grade, notes=notes, fields=fields)
    c.phones = [CustomerPhone(number=n) for n in phones]
    session.add(c)
    session.flush()
    audit(session, user.id if user else None, "create", "customer", c.id)
    return c


def update_customer(
    session: Session, user: User, customer_id: int, data: dict[str, Any], country_code: str = "86"
) -> Customer:
    """Change a customer file; the audit entry lists the changed fields."""
    c = session.get(Customer, customer_id)
    if c is None:
        raise DomainError("not-found", status=404)
    merged = {
        "name": data.get("name", c.name),
        "grade": data.get("grade", c.grade),
        "phones": data.get("phones", [p.number for p in c.phones]),
        "notes": data.get("notes", c.notes),
        "fields": data.get("fields", c.fields),
    }
    name, grade, phones, notes, fields = _validate(merged, country_code)
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


def get_customer(session: Session, user: User, customer_id: int) -> dict[str, Any]:
    """One customer file; the read is audited."""
    c = session.get(Customer, customer_id)
    if c is None:
        raise DomainError("not-found", status=404)
    audit(session, user.id, "view", "customer", c.id)
    return customer_dict(session, c)


def import_csv(session: Session, text: str, country_code: str = "86") -> int:
    """Import customers from CSV (name, phones, grade, notes, other columns → fields).

    All or nothing: the first bad line raises with its line number and nothing is written.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "name" not in reader.fieldnames:
        raise DomainError("csv-invalid", "1: header needs a 'name' column")
    rows = []
    for line, row in enumerate(reader, start=2):
        extra = {k: v for k, v in row.items() if k not in {"name", "phones", "phone", "grade", "notes"} and k}
        data = {
            "name": row.get("name") or "",
            "phones": row.get("phones") or row.get("phone") or "",
            "grade": row.get("grade") or "C",
            "notes": row.get("notes") or "",
            "fields": extra,
        }
        try:
            _validate(data, country_code)
        except DomainError as err:
            raise DomainError("csv-invalid", f"{line}: {err.message('en')}") from None
        rows.append(data)
    for data in rows:
        create_customer(session, None, data, country_code)
    return len(rows)
