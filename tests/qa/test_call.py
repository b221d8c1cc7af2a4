from __future__ import annotations

import pytest

from qa import RuleStatus, Side, analyse_call, evaluate, suggest
from tests.qa.rules import EN_RULES, FORM
from tests.qa.synth import SynthCall


def test_a_call_end_to_end_from_pcm_to_a_scored_evaluation(en_call: SynthCall) -> None:
    transcript = {side: en_call.transcript(side) for side in Side}
    result = analyse_call(
        en_call.caller,
        en_call.caller_rate,
        en_call.agent,
        en_call.agent_rate,
        events=en_call.events,
        transcript=transcript,
        rules=EN_RULES,
    )
    assert all(r.status is RuleStatus.PASSED for r in result.rules.values())
    values = result.metrics.values()
    assert values["answered_within_rings"] is True  # 7.5 s: two rings
    assert values["longest_silence_s"] == pytest.approx(7.0, abs=0.3)
    suggested = suggest(FORM, values, result.rules)
    # Everything bound is suggested; the evaluator adds what only a listener can judge.
    assert set(suggested) == {
        "greeting",
        "answered_in_time",
        "read_back",
        "promised_time",
        "no_dead_air",
        "no_arguing",
    }
    answers = {k: s.answer for k, s in suggested.items()} | {"courtesy": 4, "confidentiality": True}
    evaluation = evaluate(FORM, answers)
    # 20 · 1 + 50 · (1.5 + 1 + 1 + 1) / 5 + 30 · 1
    assert (evaluation.score, evaluation.band) == (95.0, "excellent")


def test_without_a_transcript_there_are_no_rule_results(en_call: SynthCall) -> None:
    result = analyse_call(en_call.caller, 8000, en_call.agent, 16000)
    assert result.rules == {}
    assert result.metrics.words_per_minute == {Side.CALLER: None, Side.AGENT: None}
    assert result.caller.side is Side.CALLER and result.agent.side is Side.AGENT
