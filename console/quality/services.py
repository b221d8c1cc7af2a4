"""Automatic call analysis: the versioned phrase rules, which calls are due, their stored
results and the job's progress. Session passed in, never committed (jobs.py runs the batch).

A call record is due when its caller and agent recordings are both complete and it has no
analysis for the active rules version: never analysed, analysed with an older version (the
rules changed: re-run), or queued again on demand (status pending). A failed analysis (a
recording that cannot be read) is not due again until the rules change or someone asks.

The results are stored as plain JSON: the metrics as `qa.CallMetrics.values()` names them,
the segments as [start_s, end_s] pairs on the recording's timeline (0 = the first sample of
both channels), each rule's verdict per language with its evidence.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from console.calls.services import CallNames
from console.calls.services import names as call_names
from console.core.errors import DomainError
from console.core.models import (
    Call,
    CallAnalysis,
    CallEvent,
    CallTag,
    Disposition,
    QaAnalysisRun,
    QaRuleSet,
    QaSavedFilter,
    Recording,
)
from console.quality.defaults import DEFAULT_RULES, RULE_FIELDS
from console.recordings.store import Channel, RecordingKey, RecordingReader, RecordingStatus
from qa import CallAnalysis as EngineAnalysis
from qa import CallMetrics, Hit, PhraseRule, QaError, RuleKind, RuleResult, Segment, Side

# The call events the engine reads: ring time (last offer to answer) and hold spans.
ENGINE_EVENTS = ("offered", "answered", "held", "resumed", "ended")
ERROR_DETAIL_CHARS = 256
LANGUAGES = ("zh-CN", "en")


class AnalysisStatus(enum.StrEnum):
    PENDING = "pending"  # queued again on demand
    DONE = "done"
    FAILED = "failed"


class RunTrigger(enum.StrEnum):
    SCHEDULED = "scheduled"  # the scheduler role's periodic job
    MANUAL = "manual"  # POST /api/v1/quality/analysis/run


# ---- rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleBook:
    """A rules version as the engine takes it: the phrase rules of each language."""

    version: int
    rules: Mapping[str, tuple[PhraseRule, ...]]


def parse_rules(data: object) -> dict[str, tuple[PhraseRule, ...]]:
    """Stored or submitted rules (a list of rule objects, see defaults.py) as the engine's
    rules by language; `quality-rules-invalid` names the first bad one."""
    if not isinstance(data, list) or not data:
        raise DomainError("quality-rules-invalid", "a non-empty list of rules")
    out: dict[str, list[PhraseRule]] = {}
    for i, item in enumerate(data):
        where = f"rule {i + 1}"
        if not isinstance(item, dict):
            raise DomainError("quality-rules-invalid", where)
        unknown = set(item) - {"language", "id", "kind", "phrases", *RULE_FIELDS}
        if unknown:
            raise DomainError("quality-rules-invalid", f"{where}: {', '.join(sorted(unknown))}")
        language = item.get("language")
        if language not in LANGUAGES:
            raise DomainError("quality-rules-invalid", f"{where}: language")
        try:
            rule = _phrase_rule(item)
        except (QaError, TypeError, ValueError) as e:
            raise DomainError("quality-rules-invalid", f"{where}: {e}") from e
        if any(r.id == rule.id for r in out.get(language, ())):
            raise DomainError("quality-rules-invalid", f"{where}: {rule.id} twice in {language}")
        out.setdefault(language, []).append(rule)
    return {language: tuple(rules) for language, rules in out.items()}


def _side(value: object) -> Side | None:
    return None if value is None else Side(str(value))


def _pair(value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError("window_s is [from, to]")
    return float(value[0]), float(value[1])


def _texts(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} is a list of texts")
    return tuple(value)


def _phrase_rule(item: Mapping[str, Any]) -> PhraseRule:
    f = {**RULE_FIELDS, **item}
    if not isinstance(f.get("id"), str) or not f["id"].strip():
        raise ValueError("id")
    threshold = f["trigger_threshold"]
    return PhraseRule(
        id=f["id"],
        kind=RuleKind(str(f.get("kind", ""))),
        phrases=_texts(f.get("phrases"), "phrases"),
        side=_side(f["side"]),
        threshold=float(f["threshold"]),
        window_s=_pair(f["window_s"]),
        from_end=bool(f["from_end"]),
        triggers=_texts(f["triggers"], "triggers"),
        trigger_side=_side(f["trigger_side"]),
        trigger_threshold=None if threshold is None else float(threshold),
        within_s=float(f["within_s"]),
    )


def rule_data(language: str, rule: PhraseRule) -> dict[str, Any]:
    """A rule as stored: every field spelled out (see defaults.py)."""
    return {
        "language": language,
        "id": rule.id,
        "kind": str(rule.kind),
        "phrases": list(rule.phrases),
        "side": None if rule.side is None else str(rule.side),
        "threshold": rule.threshold,
        "window_s": None if rule.window_s is None else list(rule.window_s),
        "from_end": rule.from_end,
        "triggers": list(rule.triggers),
        "trigger_side": None if rule.trigger_side is None else str(rule.trigger_side),
        "trigger_threshold": rule.trigger_threshold,
        "within_s": rule.within_s,
    }


def active_rule_set(s: Session) -> QaRuleSet | None:
    """The active rules version (the newest, should two ever be marked active)."""
    return s.scalar(
        select(QaRuleSet).where(QaRuleSet.active.is_(True)).order_by(QaRuleSet.version.desc())
    )


def active_version(s: Session) -> int | None:
    """The active rules version's number (None before there is any)."""
    row = active_rule_set(s)
    return row.version if row is not None else None


def publish_rules(
    s: Session, data: object, user_id: int | None, now: dt.datetime, note: str = ""
) -> QaRuleSet:
    """Store the rules as the next version and make it the active one: every call is then
    analysed again. Two publishing at once: one of them meets the unique version."""
    by_language = parse_rules(data)
    stored = [rule_data(lang, r) for lang, rules in by_language.items() for r in rules]
    last = s.scalar(select(func.max(QaRuleSet.version))) or 0
    s.execute(update(QaRuleSet).where(QaRuleSet.active.is_(True)).values(active=False))
    row = QaRuleSet(
        version=last + 1,
        active=True,
        rules=stored,
        note=note[:256],
        created_by=user_id,
        created_at=now,
    )
    s.add(row)
    s.flush()
    return row


def rule_book(s: Session, now: dt.datetime) -> RuleBook:
    """The active rules, parsed; the defaults become version 1 of a database without any
    (migration 0010 stores them, so only after someone emptied the table)."""
    row = active_rule_set(s)
    if row is None:
        row = publish_rules(s, DEFAULT_RULES, None, now, "defaults")
    return RuleBook(row.version, parse_rules(row.rules))


# ---- what is due ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Track:
    """One complete recorded channel to read: its row, file and sample rate."""

    recording_id: int
    path: str
    sample_rate: int


@dataclass(frozen=True)
class AnalysisTask:
    """A due call: its two channels and the events the engine reads, as (kind, at)."""

    call_id: str
    caller: Track
    agent: Track
    events: tuple[tuple[str, dt.datetime], ...]


def _complete(channel: Channel) -> Any:
    return exists().where(
        Recording.call_id == Call.id,
        Recording.channel == channel.value,
        Recording.status == RecordingStatus.COMPLETE,
    )


def _due(version: int) -> Any:
    """Calls with both channels complete and no analysis current for `version`."""
    return (
        select(Call.id)
        .outerjoin(CallAnalysis, CallAnalysis.call_id == Call.id)
        .where(_complete(Channel.CALLER), _complete(Channel.AGENT))
        .where(
            or_(
                CallAnalysis.id.is_(None),
                CallAnalysis.rules_version != version,
                CallAnalysis.status == AnalysisStatus.PENDING,
            )
        )
    )


def calls_to_analyse(s: Session, version: int, limit: int) -> list[AnalysisTask]:
    """Up to `limit` due calls, newest first (today's calls get their metrics first)."""
    ids = list(
        s.scalars(
            _due(version).order_by(Call.arrived_at.desc(), Call.id.desc()).limit(max(0, limit))
        )
    )
    if not ids:
        return []
    tracks: dict[tuple[str, str], Track] = {}
    rows = s.scalars(
        select(Recording)
        .where(
            Recording.call_id.in_(ids),
            Recording.channel.in_((Channel.CALLER.value, Channel.AGENT.value)),
            Recording.status == RecordingStatus.COMPLETE,
        )
        .order_by(Recording.id)
    )
    for r in rows:  # the newest complete file of a channel, should there be several
        tracks[(r.call_id, r.channel)] = Track(r.id, r.path, r.sample_rate)
    events: dict[str, list[tuple[str, dt.datetime]]] = {i: [] for i in ids}
    for call_id, kind, at in s.execute(
        select(CallEvent.call_id, CallEvent.kind, CallEvent.at)
        .where(CallEvent.call_id.in_(ids), CallEvent.kind.in_(ENGINE_EVENTS))
        .order_by(CallEvent.at, CallEvent.id)
    ):
        events[call_id].append((kind, at))
    return [
        AnalysisTask(
            call_id=i,
            caller=tracks[(i, Channel.CALLER.value)],
            agent=tracks[(i, Channel.AGENT.value)],
            events=tuple(events[i]),
        )
        for i in ids
    ]


def requeue_failed(s: Session, version: int) -> int:
    """Queue the failed analyses of this version again (on demand); how many."""
    result = s.execute(
        update(CallAnalysis)
        .where(CallAnalysis.rules_version == version, CallAnalysis.status == AnalysisStatus.FAILED)
        .values(status=AnalysisStatus.PENDING)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# ---- results -------------------------------------------------------------------------------


def _num(value: float | bool | None) -> float | bool | None:
    if value is None or isinstance(value, bool):
        return value
    return round(float(value), 4)


def stored_metrics(metrics: CallMetrics) -> dict[str, float | bool | None]:
    """The flat named figures (`CallMetrics.values()`) as plain JSON numbers."""
    return {k: _num(v) for k, v in metrics.values().items()}


def _spans(segments: Iterable[Segment]) -> list[list[float]]:
    return [[round(float(x.start_s), 3), round(float(x.end_s), 3)] for x in segments]


def stored_segments(result: EngineAnalysis) -> dict[str, Any]:
    """Per channel its speech and the music on hold heard in it; for the call its holds
    (audio and events), over-talk, dead air and interruptions: the player's marks."""
    m = result.metrics
    return {
        "caller": {"speech": _spans(result.caller.speech), "holds": _spans(result.caller.holds)},
        "agent": {"speech": _spans(result.agent.speech), "holds": _spans(result.agent.holds)},
        "holds": _spans(m.holds),
        "overtalk": _spans(m.overtalk),
        "silences": _spans(m.silences),
        "interruptions": [
            {"by": str(i.by), "at_s": round(float(i.at_s), 3), "overlap_s": float(i.overlap_s)}
            for i in m.interruptions
        ],
    }


def _hit(h: Hit) -> dict[str, Any]:
    return {
        "side": str(h.side),
        "phrase": h.phrase,
        "matched": h.matched,
        "score": float(h.score),
        "how": str(h.how),
        "at_s": float(h.at_s),
        "trigger": h.trigger,
        "line": {"start_s": h.line.start_s, "end_s": h.line.end_s, "text": h.line.text},
    }


def stored_rule_results(results: Mapping[str, Mapping[str, RuleResult]]) -> list[dict[str, Any]]:
    """Each language's verdicts, rule by rule, with their evidence."""
    return [
        {
            "language": language,
            "rule_id": r.rule_id,
            "status": str(r.status),
            "evidence": [_hit(h) for h in r.evidence],
        }
        for language, by_id in results.items()
        for r in by_id.values()
    ]


def _row(s: Session, call_id: str, version: int) -> CallAnalysis:
    row = s.scalar(select(CallAnalysis).where(CallAnalysis.call_id == call_id))
    if row is None:
        row = CallAnalysis(call_id=call_id, rules_version=version)
        s.add(row)
    return row


def store_done(
    s: Session,
    call_id: str,
    version: int,
    result: EngineAnalysis,
    rule_results: Mapping[str, Mapping[str, RuleResult]],
    now: dt.datetime,
) -> CallAnalysis:
    """The call's analysis with this rules version (replacing an older one)."""
    row = _row(s, call_id, version)
    row.status = AnalysisStatus.DONE
    row.rules_version = version
    row.error = row.error_detail = None
    row.analysed_at = now
    row.duration_s = round(float(result.metrics.duration_s), 3)
    row.metrics = stored_metrics(result.metrics)
    row.segments = stored_segments(result)
    row.rule_results = stored_rule_results(rule_results)
    s.flush()
    return row


def store_failed(
    s: Session, call_id: str, version: int, error_id: str, detail: str, now: dt.datetime
) -> CallAnalysis:
    """The call could not be analysed with this version (its recording cannot be read):
    the error is kept, the results emptied; it is due again only when the rules change or
    on demand."""
    row = _row(s, call_id, version)
    row.status = AnalysisStatus.FAILED
    row.rules_version = version
    row.error = error_id[:64]
    row.error_detail = detail[:ERROR_DETAIL_CHARS]
    row.analysed_at = now
    row.duration_s = None
    row.metrics, row.segments, row.rule_results = {}, {}, []
    s.flush()
    return row


def analysis_of_call(s: Session, call_id: str) -> CallAnalysis:
    """The call's analysis; `analysis-not-found` when it has none (yet)."""
    row = s.scalar(select(CallAnalysis).where(CallAnalysis.call_id == call_id))
    if row is None:
        raise DomainError("analysis-not-found", detail=call_id)
    return row


# ---- progress ------------------------------------------------------------------------------


def record_run(
    s: Session,
    trigger: RunTrigger,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    analysed: int,
    failed: int,
) -> QaAnalysisRun:
    """Keep the run as the last of its trigger."""
    row = s.get(QaAnalysisRun, str(trigger))
    if row is None:
        row = QaAnalysisRun(trigger=str(trigger))
        s.add(row)
    row.started_at, row.finished_at = started_at, finished_at
    row.analysed, row.failed = analysed, failed
    s.flush()
    return row


@dataclass(frozen=True)
class Progress:
    """How far the analysis is with the active rules version, and its last run."""

    rules_version: int | None
    done: int
    pending: int
    failed: int
    last_run: QaAnalysisRun | None


def progress(s: Session) -> Progress:
    """Done and failed analyses of the active version, calls due, and the latest run."""
    active = active_rule_set(s)
    version = active.version if active is not None else 0
    counts: dict[str, int] = {
        status: n
        for status, n in s.execute(
            select(CallAnalysis.status, func.count())
            .where(CallAnalysis.rules_version == version)
            .group_by(CallAnalysis.status)
        )
    }
    pending = s.scalar(select(func.count()).select_from(_due(version).subquery())) or 0
    last = s.scalar(select(QaAnalysisRun).order_by(QaAnalysisRun.finished_at.desc()).limit(1))
    return Progress(
        rules_version=active.version if active is not None else None,
        done=int(counts.get(AnalysisStatus.DONE, 0)),
        pending=int(pending),
        failed=int(counts.get(AnalysisStatus.FAILED, 0)),
        last_run=last,
    )


# ---- the recording library ---------------------------------------------------------------
#
# Reviewers find calls to hear: the call records with both channels complete (as the
# analysis reads them), newest first, filtered by who, where, when and how the call went,
# and by the automatic metrics. The filters travel as the API's query parameters; a
# reviewer can name a set and save it (qa_saved_filters, her own).

# Metric filters, by their API name: the stored metric each one reads (value ≥ N).
METRIC_FILTERS: dict[str, str] = {
    "silence": "longest_silence_s",
    "overtalk": "overtalk_s",
    "first_word": "agent_first_word_s",
}
ANY_RULE = "any"  # failed_rule=any: some phrase rule failed, whichever
MAX_SECONDS = 86_400.0  # duration and metric filters: up to a day
MAX_ID = 2_147_483_647
TEXT_CHARS = 64
FILTER_NAME_CHARS = 64
SAVED_FILTERS_PER_USER = 50
LIBRARY_PAGE = 50
PEAK_POINTS = 1000
PEAK_SCALE = 1000  # peaks are sent as thousandths of full scale
_PEAK_BLOCK = 1 << 16  # samples decrypted before they are folded into the peaks
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # no database stores NUL in text; none is typed
# Filter names in the order the API documents them (and a saved set stores them).
FILTER_NAMES = (
    "from",
    "to",
    "agent",
    "queue",
    "disposition",
    "tag",
    "min_duration",
    "max_duration",
    *METRIC_FILTERS,
    "failed_rule",
)


def _invalid(name: str) -> DomainError:
    return DomainError("invalid-input", name)


def _text_value(name: str, raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _invalid(name)
    value = raw.strip()
    if len(value) > TEXT_CHARS or _CONTROL.search(value):
        raise _invalid(name)
    return value or None


def _int_value(name: str, raw: object) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise _invalid(name)
    try:
        value = int(raw) if isinstance(raw, int | str) else None
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_ID:
        raise _invalid(name)
    return value


def _seconds_value(name: str, raw: object) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise _invalid(name)
    try:
        value = float(raw) if isinstance(raw, int | float | str) else None
    except ValueError:
        value = None
    if value is None or not 0.0 <= value <= MAX_SECONDS:  # also refuses NaN
        raise _invalid(name)
    return value


def _day_value(name: str, raw: object) -> dt.date | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise _invalid(name)
    try:
        day = dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise _invalid(name) from None
    if not 1970 <= day.year <= 2999:
        raise _invalid(name)
    return day


@dataclass(frozen=True)
class LibraryFilter:
    """The recording library's filters, each optional (None: any). Days are the centre's
    (time zone), both included; durations and metrics are seconds, at least the value
    (`max_duration` at most); `failed_rule` is a rule id or `any`."""

    first_day: dt.date | None = None
    last_day: dt.date | None = None
    agent_id: int | None = None
    queue_id: int | None = None
    disposition: str | None = None
    tag: str | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    silence_s: float | None = None
    overtalk_s: float | None = None
    first_word_s: float | None = None
    failed_rule: str | None = None

    @classmethod
    def parse(cls, values: Mapping[str, object]) -> LibraryFilter:
        """From query parameters (strings) or a saved set (JSON values). A bad value is
        `invalid-input` naming the filter; a range upside down is
        `quality-dates-reversed` / `quality-durations-reversed`."""
        unknown = sorted(set(values) - set(FILTER_NAMES))
        if unknown:
            raise _invalid(unknown[0])
        f = cls(
            first_day=_day_value("from", values.get("from")),
            last_day=_day_value("to", values.get("to")),
            agent_id=_int_value("agent", values.get("agent")),
            queue_id=_int_value("queue", values.get("queue")),
            disposition=_text_value("disposition", values.get("disposition")),
            tag=_text_value("tag", values.get("tag")),
            min_duration_s=_seconds_value("min_duration", values.get("min_duration")),
            max_duration_s=_seconds_value("max_duration", values.get("max_duration")),
            silence_s=_seconds_value("silence", values.get("silence")),
            overtalk_s=_seconds_value("overtalk", values.get("overtalk")),
            first_word_s=_seconds_value("first_word", values.get("first_word")),
            failed_rule=_text_value("failed_rule", values.get("failed_rule")),
        )
        if f.first_day and f.last_day and f.first_day > f.last_day:
            raise DomainError("quality-dates-reversed")
        low, high = f.min_duration_s, f.max_duration_s
        if low is not None and high is not None and low > high:
            raise DomainError("quality-durations-reversed")
        return f

    def saved(self) -> dict[str, str | int | float]:
        """The filters set, by their API names, as a saved set stores them."""
        values: dict[str, str | int | float | None] = {
            "from": self.first_day.isoformat() if self.first_day else None,
            "to": self.last_day.isoformat() if self.last_day else None,
            "agent": self.agent_id,
            "queue": self.queue_id,
            "disposition": self.disposition,
            "tag": self.tag,
            "min_duration": self.min_duration_s,
            "max_duration": self.max_duration_s,
            "silence": self.silence_s,
            "overtalk": self.overtalk_s,
            "first_word": self.first_word_s,
            "failed_rule": self.failed_rule,
        }
        return {k: v for k, v in values.items() if v is not None}

    def metric_floors(self) -> dict[str, float]:
        """The metric filters set: stored metric name → the least value."""
        floors = {"silence": self.silence_s, "overtalk": self.overtalk_s}
        floors["first_word"] = self.first_word_s
        return {METRIC_FILTERS[k]: v for k, v in floors.items() if v is not None}


def _day_start(day: dt.date, tz: str) -> dt.datetime:
    """Midnight starting the centre's day, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)


def _failed_rule(s: Session, rule_id: str) -> Any:
    """Some stored rule verdict is `failed` (with this rule id unless `any`): the verdicts are
    a JSON list, unnested with each database's own function."""
    status: Any
    rule: Any
    if s.get_bind().dialect.name == "postgresql":
        item = func.json_array_elements(CallAnalysis.rule_results).table_valued("value")
        status = item.c.value.op("->>")("status")
        rule = item.c.value.op("->>")("rule_id")
    else:
        item = func.json_each(CallAnalysis.rule_results).table_valued("value")
        status = func.json_extract(item.c.value, "$.status")
        rule = func.json_extract(item.c.value, "$.rule_id")
    where = [status == "failed"]
    if rule_id != ANY_RULE:
        where.append(rule == rule_id)
    return exists(select(1).select_from(item).where(*where))


def _library_where(s: Session, f: LibraryFilter, tz: str) -> list[Any]:
    where: list[Any] = [_complete(Channel.CALLER), _complete(Channel.AGENT)]
    if f.first_day:
        where.append(Call.arrived_at >= _day_start(f.first_day, tz))
    if f.last_day:
        where.append(Call.arrived_at < _day_start(f.last_day + dt.timedelta(days=1), tz))
    if f.agent_id is not None:
        where.append(Call.agent_id == f.agent_id)
    if f.queue_id is not None:
        where.append(Call.queue_id == f.queue_id)
    if f.disposition:
        where.append(Call.disposition_code == f.disposition)
    if f.tag:
        where.append(Call.id.in_(select(CallTag.call_id).where(CallTag.tag == f.tag)))
    if f.min_duration_s is not None:
        where.append(Call.talk_s >= f.min_duration_s)
    if f.max_duration_s is not None:
        where.append(Call.talk_s <= f.max_duration_s)
    floors = f.metric_floors()
    if floors or f.failed_rule:
        where.append(CallAnalysis.status == AnalysisStatus.DONE)
    for metric, least in floors.items():
        where.append(CallAnalysis.metrics[metric].as_float() >= least)
    if f.failed_rule:
        where.append(_failed_rule(s, f.failed_rule))
    return where


@dataclass(frozen=True)
class LibraryRow:
    """A recorded call and its analysis (None: not analysed yet)."""

    call: Call
    analysis: CallAnalysis | None


@dataclass(frozen=True)
class LibraryNames:
    """What the rows show for ids: agents' and queues' names, dispositions (both languages),
    and the active rules version (an analysis with another one is not current)."""

    calls: CallNames
    dispositions: dict[str, Disposition]
    rules_version: int | None


def library_names(s: Session) -> LibraryNames:
    """The names and labels the library's rows show."""
    dispositions = {d.code: d for d in s.scalars(select(Disposition).order_by(Disposition.id))}
    return LibraryNames(call_names(s), dispositions, active_version(s))


@dataclass(frozen=True)
class LibraryPage:
    """One page of the library, with the total count."""

    total: int
    rows: list[LibraryRow]
    names: LibraryNames


def search_library(
    s: Session, f: LibraryFilter, tz: str, limit: int = LIBRARY_PAGE, offset: int = 0
) -> LibraryPage:
    """Recorded calls matching the filters, newest first, one page of them."""
    where = _library_where(s, f, tz)
    joined = select(Call.id).outerjoin(CallAnalysis, CallAnalysis.call_id == Call.id)
    total = s.scalar(select(func.count()).select_from(joined.where(*where).subquery())) or 0
    rows = s.execute(
        select(Call, CallAnalysis)
        .outerjoin(CallAnalysis, CallAnalysis.call_id == Call.id)
        .where(*where)
        .order_by(Call.arrived_at.desc(), Call.id.desc())
        .limit(limit)
        .offset(offset)
    ).tuples()
    return LibraryPage(int(total), [LibraryRow(c, a) for c, a in rows], library_names(s))


@dataclass(frozen=True)
class LibraryChoices:
    """What the library's filters offer: agents and queues by name, dispositions, the tags
    in use (most used first) and the active rules' ids."""

    agents: list[tuple[int, str]]
    queues: list[tuple[int, str]]
    dispositions: list[Disposition]
    tags: list[str]
    rule_ids: list[str]


def library_choices(s: Session, tags: int = 200) -> LibraryChoices:
    """The filters' choices (agents by name, not id: what a reviewer knows them by)."""
    names = call_names(s)
    used = s.execute(
        select(CallTag.tag, func.count())
        .group_by(CallTag.tag)
        .order_by(func.count().desc(), CallTag.tag)
        .limit(tags)
    ).tuples()
    row = active_rule_set(s)
    rule_ids: list[str] = []
    for rule in row.rules if row is not None else []:
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        if isinstance(rule_id, str) and rule_id not in rule_ids:
            rule_ids.append(rule_id)
    return LibraryChoices(
        agents=sorted(names.agents.items(), key=lambda kv: (kv[1], kv[0])),
        queues=sorted(names.queues.items(), key=lambda kv: (kv[1], kv[0])),
        dispositions=list(s.scalars(select(Disposition).order_by(Disposition.id))),
        tags=[tag for tag, _ in used],
        rule_ids=rule_ids,
    )


@dataclass(frozen=True)
class LibraryEntry:
    """A recorded call as the player opens it: its row, names, and every recording row."""

    row: LibraryRow
    names: LibraryNames
    recordings: list[Recording]


def _recorded_call(s: Session, call_id: str) -> Call:
    call = s.get(Call, call_id)
    if call is None:
        raise DomainError("call-not-found", detail=call_id)
    recorded = s.scalar(
        select(func.count())
        .select_from(Call)
        .where(Call.id == call_id, _complete(Channel.CALLER), _complete(Channel.AGENT))
    )
    if not recorded:
        raise DomainError("recording-not-found", detail=call_id)
    return call


def library_entry(s: Session, call_id: str) -> LibraryEntry:
    """The recorded call for the player; `call-not-found`, or `recording-not-found` when its
    caller and agent recordings are not both complete."""
    call = _recorded_call(s, call_id)
    analysis = s.scalar(select(CallAnalysis).where(CallAnalysis.call_id == call_id))
    recordings = list(
        s.scalars(select(Recording).where(Recording.call_id == call_id).order_by(Recording.id))
    )
    return LibraryEntry(LibraryRow(call, analysis), library_names(s), recordings)


@dataclass(frozen=True)
class PeakTrack:
    """A complete mono channel to draw: its file and how long it is."""

    side: str
    track: Track
    duration_s: float


def peak_tracks(s: Session, call_id: str) -> list[PeakTrack]:
    """The caller's and the agent's complete recordings (the newest of each), as the
    analysis read them: the waveform's two lanes, on the analysis' timeline."""
    _recorded_call(s, call_id)
    found: dict[str, PeakTrack] = {}
    for r in s.scalars(
        select(Recording)
        .where(
            Recording.call_id == call_id,
            Recording.channel.in_((Channel.CALLER.value, Channel.AGENT.value)),
            Recording.status == RecordingStatus.COMPLETE,
        )
        .order_by(Recording.id)
    ):
        track = Track(r.id, r.path, r.sample_rate)
        found[r.channel] = PeakTrack(r.channel, track, float(r.duration_s or 0.0))
    return [found[Channel.CALLER.value], found[Channel.AGENT.value]]


@dataclass(frozen=True)
class ChannelPeaks:
    """A channel's waveform: per point of the timeline the lowest and highest sample, in
    thousandths of full scale."""

    side: str
    sample_rate: int
    duration_s: float
    low: list[int]
    high: list[int]


def channel_peaks(
    t: PeakTrack, keys: tuple[RecordingKey, ...], span_s: float, points: int
) -> ChannelPeaks:
    """Decrypt the channel as a stream and keep each point's lowest and highest sample: the
    timeline [0, span_s) is cut into `points` equal parts (a shorter channel ends early)."""
    try:
        reader = RecordingReader(Path(t.track.path), keys, partial=False)
    except FileNotFoundError as e:
        raise DomainError("recording-not-found", detail=Path(t.track.path).name) from e
    per_point = max(span_s, 1e-9) * reader.sample_rate / points
    low = np.zeros(points, dtype=np.int32)
    high = np.zeros(points, dtype=np.int32)
    position = 0

    def fold(block: bytes) -> None:
        nonlocal position
        x = np.frombuffer(block, dtype="<i2").astype(np.int32)
        if not x.size:
            return
        index = np.arange(position, position + x.size)
        part = np.minimum((index / per_point).astype(np.int64), points - 1)
        starts = np.flatnonzero(np.r_[True, part[1:] != part[:-1]])
        at = part[starts]
        low[at] = np.minimum(low[at], np.minimum.reduceat(x, starts))
        high[at] = np.maximum(high[at], np.maximum.reduceat(x, starts))
        position += x.size

    pending = bytearray()
    for segment in reader.segments():
        pending += segment
        if len(pending) >= 2 * _PEAK_BLOCK:
            usable = len(pending) - len(pending) % 2
            fold(bytes(pending[:usable]))
            del pending[:usable]
    fold(bytes(pending[: len(pending) - len(pending) % 2]))
    scale = PEAK_SCALE / 32768.0
    return ChannelPeaks(
        side=t.side,
        sample_rate=reader.sample_rate,
        duration_s=round(position / reader.sample_rate, 3),
        low=[round(v * scale) for v in low.tolist()],
        high=[round(v * scale) for v in high.tolist()],
    )


# ---- saved filters -------------------------------------------------------------------------


def saved_filters(s: Session, user_id: int) -> list[QaSavedFilter]:
    """The user's saved filter sets, by name."""
    return list(
        s.scalars(
            select(QaSavedFilter)
            .where(QaSavedFilter.user_id == user_id)
            .order_by(QaSavedFilter.name, QaSavedFilter.id)
        )
    )


def save_filter(
    s: Session, user_id: int, name: str, filters: Mapping[str, object], now: dt.datetime
) -> QaSavedFilter:
    """Save the filters under a name of the user's own (checked as the library checks them);
    a name she already uses is `quality-filter-name-taken`."""
    name = " ".join(name.split())
    if not name:
        raise DomainError("quality-filter-name-required")
    if len(name) > FILTER_NAME_CHARS or _CONTROL.search(name):
        raise _invalid("name")
    stored = LibraryFilter.parse(filters).saved()
    mine = saved_filters(s, user_id)
    if any(row.name == name for row in mine):
        raise DomainError("quality-filter-name-taken", detail=name)
    if len(mine) >= SAVED_FILTERS_PER_USER:
        raise DomainError("quality-filters-full", detail=str(SAVED_FILTERS_PER_USER))
    row = QaSavedFilter(user_id=user_id, name=name, filters=stored, created_at=now)
    s.add(row)
    s.flush()
    return row


def delete_filter(s: Session, user_id: int, filter_id: int) -> None:
    """Delete one of the user's saved sets; anyone else's is not found for her."""
    row = s.get(QaSavedFilter, filter_id)
    if row is None or row.user_id != user_id:
        raise DomainError("quality-filter-not-found", detail=str(filter_id))
    s.delete(row)
    s.flush()
