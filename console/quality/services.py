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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from console.core.errors import DomainError
from console.core.models import Call, CallAnalysis, CallEvent, QaAnalysisRun, QaRuleSet, Recording
from console.quality.defaults import DEFAULT_RULES, RULE_FIELDS
from console.recordings.store import Channel, RecordingStatus
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
