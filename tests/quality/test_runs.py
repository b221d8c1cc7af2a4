"""The job's bookkeeping: bounded batches newest first, a new rules version re-runs every
call, an unreadable recording fails its analysis once (not retried until the rules change or
someone asks), calls whose recordings are not complete wait."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from console.core.models import CallAnalysis, QaAnalysisRun, QaRuleSet, utcnow
from console.node import Hotline
from console.quality import jobs
from console.quality import services as quality
from console.quality.defaults import DEFAULT_RULES
from console.quality.services import RunTrigger
from console.recordings.store import Channel, Pcm, RecordingKey, parse_keys
from console.scheduler import JobContext, start_scheduler
from console.scheduler import jobs as scheduled
from tests.quality.recorded import (
    burst,
    context,
    new_call,
    record_simple,
    recording_path,
    write_recording,
)


def statuses(hotline: Hotline) -> dict[str, tuple[str, int, str | None]]:
    with hotline.sessions() as s:
        rows = s.scalars(select(CallAnalysis)).all()
        return {r.call_id: (r.status, r.rules_version, r.error) for r in rows}


def progress(hotline: Hotline) -> tuple[int, int, int]:
    with hotline.sessions() as s:
        p = quality.progress(s)
    return p.done, p.pending, p.failed


def publish_changed_rules(hotline: Hotline) -> int:
    rules = copy.deepcopy(DEFAULT_RULES)
    rules[0]["window_s"] = [0.0, 15.0]  # the greeting may now come within 15 s
    with hotline.sessions.begin() as s:
        return quality.publish_rules(s, rules, None, utcnow(), "greeting within 15 s").version


def test_each_run_takes_a_bounded_batch_newest_first(hotline: Hotline) -> None:
    now = utcnow()
    calls = [record_simple(hotline, now - dt.timedelta(minutes=m)) for m in (30, 20, 10)]
    assert progress(hotline) == (0, 3, 0)
    run = jobs.analyse_recordings(context(hotline, batch=2))
    assert run is not None and (run.analysed, run.failed) == (2, 0)
    assert set(statuses(hotline)) == set(calls[1:])  # the two newest
    assert progress(hotline) == (2, 1, 0)
    run = jobs.analyse_recordings(context(hotline, batch=2))
    assert run is not None and run.analysed == 1
    assert progress(hotline) == (3, 0, 0)
    with hotline.sessions() as s:
        last = s.get(QaAnalysisRun, "scheduled")
        assert last is not None and (last.analysed, last.failed) == (1, 0)
        assert last.started_at <= last.finished_at


def test_a_new_rules_version_re_runs_every_call_once(hotline: Hotline) -> None:
    call_id = record_simple(hotline)
    jobs.analyse_recordings(context(hotline))
    with hotline.sessions() as s:
        first = quality.analysis_of_call(s, call_id).analysed_at
    assert statuses(hotline) == {call_id: ("done", 1, None)}

    assert publish_changed_rules(hotline) == 2
    with hotline.sessions() as s:
        active = quality.active_rule_set(s)
        assert active is not None and active.version == 2 and active.note
        assert [r.version for r in s.scalars(select(QaRuleSet))] == [1, 2]
        assert quality.active_version(s) == 2
    assert progress(hotline) == (0, 1, 0)  # the old result is no longer current
    run = jobs.analyse_recordings(context(hotline))
    assert run is not None and run.analysed == 1
    with hotline.sessions() as s:
        row = quality.analysis_of_call(s, call_id)
        assert (row.status, row.rules_version) == ("done", 2)
        assert row.analysed_at is not None and first is not None and row.analysed_at >= first
        greeting = next(
            r for r in row.rule_results if (r["language"], r["rule_id"]) == ("zh-CN", "greeting")
        )
        assert greeting["status"] == "not_applicable"
    run = jobs.analyse_recordings(context(hotline))
    assert run is not None and run.analysed == 0


def test_an_unreadable_recording_fails_its_analysis_with_the_error_once(
    hotline: Hotline,
) -> None:
    corrupt = record_simple(hotline)
    path = recording_path(hotline, corrupt, Channel.AGENT)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF  # a changed byte in the last segment
    path.write_bytes(bytes(data))
    missing = record_simple(hotline)
    recording_path(hotline, missing, Channel.CALLER).unlink()
    fine = record_simple(hotline)

    run = jobs.analyse_recordings(context(hotline))
    assert run is not None and (run.analysed, run.failed) == (1, 2)
    assert statuses(hotline) == {
        corrupt: ("failed", 1, "recording-corrupt"),
        missing: ("failed", 1, "recording-not-found"),
        fine: ("done", 1, None),
    }
    with hotline.sessions() as s:
        row = quality.analysis_of_call(s, corrupt)
        assert row.error_detail and path.name in row.error_detail
        assert row.metrics == {} and row.segments == {} and row.rule_results == []
    assert progress(hotline) == (1, 0, 2)

    # Not retried by the next runs...
    run = jobs.analyse_recordings(context(hotline))
    assert run is not None and (run.analysed, run.failed) == (0, 0)
    # ...but on demand: the repaired one is analysed, the damaged one fails again.
    write_recording(hotline, missing, Channel.CALLER, burst(seed=3), 8000)
    keys = parse_keys(hotline.settings.effective_recording_keys)
    run = jobs.run_batch(hotline.sessions, keys, 10, RunTrigger.MANUAL, retry_failed=True)
    assert (run.requeued, run.analysed, run.failed) == (2, 1, 1)
    assert statuses(hotline)[missing] == ("done", 1, None)
    assert statuses(hotline)[corrupt] == ("failed", 1, "recording-corrupt")
    # ...and when the rules change.
    publish_changed_rules(hotline)
    run = jobs.analyse_recordings(context(hotline))
    assert run is not None and (run.analysed, run.failed) == (2, 1)
    assert statuses(hotline)[corrupt] == ("failed", 2, "recording-corrupt")


def test_a_key_that_is_not_configured_fails_the_analysis(hotline: Hotline) -> None:
    call_id = record_simple(hotline)
    other = "other:" + "A" * 43 + "="  # a well-formed key the files were not written with
    ctx = context(hotline)
    ctx = JobContext(ctx.sessions, ctx.bus, ctx.timezone, recording_keys=(other,))
    run = jobs.analyse_recordings(ctx)
    assert run is not None and run.failed == 1
    assert statuses(hotline) == {call_id: ("failed", 1, "recording-key-unknown")}


def test_calls_wait_until_both_recordings_are_complete(hotline: Hotline) -> None:
    only_caller = new_call(hotline)
    write_recording(hotline, only_caller, Channel.CALLER, burst(), 8000)
    still_recording = new_call(hotline)
    write_recording(hotline, still_recording, Channel.CALLER, burst(), 8000)
    write_recording(hotline, still_recording, Channel.AGENT, burst(), 8000, finish=False)
    stereo_only = new_call(hotline)
    write_recording(hotline, stereo_only, Channel.STEREO, burst() * 2, 8000)
    assert progress(hotline) == (0, 0, 0)
    run = jobs.analyse_recordings(context(hotline))
    assert run is not None and (run.analysed, run.failed) == (0, 0)
    assert statuses(hotline) == {}


def test_the_scheduler_runs_the_analysis_every_minute_and_skips_without_keys(
    hotline: Hotline,
) -> None:
    assert ("analyse_recordings", jobs.analyse_recordings, dt.timedelta(minutes=1)) in scheduled()
    bare = JobContext(hotline.sessions, hotline.bus, hotline.settings.timezone)
    assert bare.recording_keys == () and bare.analysis_batch_size == jobs.DEFAULT_ANALYSIS_BATCH
    sched = start_scheduler(bare)
    try:
        job = sched.get_job("analyse_recordings")
        assert job is not None and job.trigger.interval == jobs.ANALYSE_EVERY
    finally:
        sched.shutdown(wait=False)
    record_simple(hotline)
    assert jobs.analyse_recordings(bare) is None  # nothing to decrypt with: nothing touched
    assert statuses(hotline) == {}


def test_an_unforeseen_error_fails_that_call_and_the_batch_goes_on(
    hotline: Hotline, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    older = record_simple(hotline, now - dt.timedelta(minutes=5))
    newer = record_simple(hotline, now)
    bad = recording_path(hotline, newer, Channel.AGENT)
    real = jobs.read_pcm

    def read(path: Path, keys: tuple[RecordingKey, ...], *, partial: bool = False) -> Pcm:
        if path == bad:
            raise RuntimeError("disk on fire")
        return real(path, keys, partial=partial)

    monkeypatch.setattr(jobs, "read_pcm", read)
    run = jobs.analyse_recordings(context(hotline))
    assert run is not None and (run.analysed, run.failed) == (1, 1)
    assert statuses(hotline) == {
        newer: ("failed", 1, "analysis-failed"),
        older: ("done", 1, None),
    }
    with hotline.sessions() as s:
        assert quality.analysis_of_call(s, newer).error_detail == "RuntimeError: disk on fire"
