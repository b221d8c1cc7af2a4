# ruff: noqa: RUF001 — Chinese lines keep their own full-width punctuation, on purpose.
from __future__ import annotations

import pytest

import qa.phrases as phrases
from qa import MatchKind, PhraseRule, QaError, RuleKind, RuleStatus, Side, evaluate_rules
from qa.phrases import backends, evaluate_rule
from tests.qa.rules import EN_RULES, ZH_RULES
from tests.qa.synth import AGENT_LINES, CALLER_LINES, SynthCall


def test_both_optional_matchers_are_installed_for_the_tests() -> None:
    assert backends() == {"rapidfuzz": True, "pypinyin": True}


def test_the_english_calls_own_script_passes_every_rule(en_call: SynthCall) -> None:
    transcript = {side: en_call.transcript(side) for side in Side}
    results = evaluate_rules(EN_RULES, transcript, en_call.duration_s)
    assert {k: r.status for k, r in results.items()} == {
        "greeting": RuleStatus.PASSED,
        "polite": RuleStatus.PASSED,
        "closing": RuleStatus.PASSED,
        "no_arguing": RuleStatus.PASSED,
        "read_back": RuleStatus.PASSED,
        "promised_time": RuleStatus.PASSED,
    }
    (greeting,) = results["greeting"].evidence
    first = en_call.lines[0]
    assert greeting.matched == "Hello, Huate Transport"
    assert (greeting.how, greeting.score, greeting.side) == (MatchKind.EXACT, 100.0, Side.AGENT)
    assert greeting.at_s == first.start_s
    trigger, answer = results["read_back"].evidence
    assert trigger.trigger and trigger.side is Side.CALLER and trigger.matched == "complaint"
    assert answer.matched.casefold() in ("let me read that back", "is that correct")
    assert answer.line.text == AGENT_LINES["en"][1].text
    assert answer.at_s > trigger.at_s


def test_recognition_errors_still_match_fuzzily_with_their_score() -> None:
    transcript = {
        Side.AGENT: [
            (1.0, 4.0, "hello hua te transport this is lily"),
            (30.0, 34.0, "let me reed that back to you seven four two"),
            (60.0, 63.0, "thank you for colling goodbye"),
        ],
        Side.CALLER: [(10.0, 14.0, "i want to make a complain about the driver")],
    }
    results = evaluate_rules(EN_RULES, transcript, 64.0)
    assert results["greeting"].status is RuleStatus.PASSED
    (hit,) = results["greeting"].evidence
    assert hit.how is MatchKind.FUZZY and 85 <= hit.score < 100
    assert hit.matched == "hello hua te transport"
    assert results["read_back"].status is RuleStatus.PASSED
    assert results["read_back"].evidence[-1].matched == "let me reed that back"
    assert results["closing"].status is RuleStatus.PASSED


def test_a_late_greeting_fails_with_no_evidence_in_the_window() -> None:
    transcript = {Side.AGENT: [(12.5, 15.0, "Hello, Huate Transport, how can I help?")]}
    result = evaluate_rule(EN_RULES[0], transcript)
    assert result.status is RuleStatus.FAILED
    assert result.evidence == ()


def test_the_hit_time_is_interpolated_within_the_line() -> None:
    text = "good morning and welcome to Huate Transport"
    transcript = {Side.AGENT: [(2.0, 6.3, text)]}
    (hit,) = evaluate_rule(EN_RULES[0], transcript).evidence
    assert hit.matched == "Huate Transport"
    assert hit.at_s == pytest.approx(2.0 + 4.3 * text.index("Huate") / len(text), abs=1e-3)


def test_forbidden_phrases_are_failed_with_evidence_and_never_found_inside_words() -> None:
    rule = PhraseRule("no", RuleKind.FORBIDDEN, ("no", "calm down"), threshold=85)
    bad = {Side.AGENT: [(5.0, 7.0, "Sir, please calm down."), (9.0, 10.0, "No.")]}
    result = evaluate_rule(rule, bad)
    assert result.status is RuleStatus.FAILED
    assert [(h.matched, h.at_s) for h in result.evidence] == [("calm down", 6.091), ("No", 9.0)]
    good = {Side.AGENT: [(0.0, 3.0, "I know the parcel is late, I am calling the depot now")]}
    assert evaluate_rule(rule, good).status is RuleStatus.PASSED


def test_the_callers_words_do_not_count_against_the_agent() -> None:
    transcript = {
        Side.CALLER: [(1.0, 2.0, "calm down? you are wrong!")],
        Side.AGENT: [(3.0, 4.0, "I understand.")],
    }
    assert evaluate_rule(EN_RULES[3], transcript).status is RuleStatus.PASSED


def test_no_agent_lines_or_no_trigger_is_not_applicable() -> None:
    only_caller = {Side.CALLER: [(1.0, 2.0, "hello?")]}
    assert evaluate_rule(EN_RULES[0], only_caller).status is RuleStatus.NOT_APPLICABLE
    assert evaluate_rule(EN_RULES[0], {}).status is RuleStatus.NOT_APPLICABLE
    no_complaint = {
        Side.CALLER: [(5.0, 7.0, "where is my parcel")],
        Side.AGENT: [(8.0, 9.0, "it will arrive tomorrow")],
    }
    assert evaluate_rule(EN_RULES[4], no_complaint).status is RuleStatus.NOT_APPLICABLE


def test_a_read_back_too_late_fails_and_keeps_the_trigger_as_evidence() -> None:
    transcript = {
        Side.CALLER: [(10.0, 13.0, "I want to make a complaint")],
        Side.AGENT: [(95.0, 98.0, "let me read that back to you")],
    }
    result = evaluate_rule(EN_RULES[4], transcript)
    assert result.status is RuleStatus.FAILED
    (trigger,) = result.evidence
    assert trigger.trigger and trigger.matched == "complaint"


def test_repeated_mentions_of_one_complaint_need_one_read_back() -> None:
    transcript = {
        Side.CALLER: [
            (10.0, 13.0, "I have a complaint"),
            (30.0, 33.0, "the complaint is about your driver"),
            (200.0, 203.0, "and one more complaint about the invoice"),
        ],
        Side.AGENT: [(40.0, 43.0, "let me read that back, is that correct?")],
    }
    result = evaluate_rule(EN_RULES[4], transcript)
    # The first two mentions are one matter, answered at 40 s; the third is not answered.
    assert result.status is RuleStatus.FAILED
    assert [h.line.start_s for h in result.evidence] == [10.0, 30.0, 40.0, 200.0]


def test_the_closing_window_counts_back_from_the_end_of_the_call() -> None:
    rule = EN_RULES[2]
    transcript = {Side.AGENT: [(100.0, 103.0, "thank you for calling, goodbye")]}
    assert evaluate_rule(rule, transcript, duration_s=120.0).status is RuleStatus.PASSED
    assert evaluate_rule(rule, transcript, duration_s=140.0).status is RuleStatus.FAILED


def test_the_mandarin_calls_script_gives_the_verdicts_built_into_it(zh_call: SynthCall) -> None:
    transcript = {side: zh_call.transcript(side) for side in Side}
    results = evaluate_rules(ZH_RULES, transcript, zh_call.duration_s)
    # The agent never reads the complaint back in this call, but does promise a time.
    assert {k: r.status for k, r in results.items()} == {
        "greeting": RuleStatus.PASSED,
        "forbidden": RuleStatus.PASSED,
        "confirmation": RuleStatus.FAILED,
        "promised_time": RuleStatus.PASSED,
    }
    (trigger,) = results["confirmation"].evidence
    assert trigger.matched == "投诉" and trigger.side is Side.CALLER


@pytest.mark.parametrize(
    ("heard", "how"),
    [
        ("您好，华特运输，请问有什么可以帮您？", MatchKind.EXACT),
        ("您好，话特运输，请问有什么可以帮您？", MatchKind.HOMOPHONE),  # 华 heard as 话
        ("您好华特运书", MatchKind.HOMOPHONE),
        ("你好，华特运输", MatchKind.FUZZY),  # nin / ni
    ],
)
def test_mandarin_greeting_matches_through_pinyin(heard: str, how: MatchKind) -> None:
    result = evaluate_rule(ZH_RULES[0], {Side.AGENT: [(0.5, 3.0, heard)]})
    assert result.status is RuleStatus.PASSED
    (hit,) = result.evidence
    assert hit.how is how
    assert hit.matched.replace("，", "") in heard.replace("，", "")


FORBIDDEN_SAID = [
    "这个我真的不知道。",
    "这个我也布知道",  # recognised with a homophone
    "那不归我管，你找别人吧。",
    "你自己看着办吧！",
]
BENIGN = [
    *[x.text for x in AGENT_LINES["zh"] + CALLER_LINES["zh"]],
    "我知道了，马上帮您处理。",
    "您知道单号吗？",
    "不用谢，这是我应该做的。",
    "我不太清楚具体时间，我帮您查一下。",
    "这个归我们部门管，您放心。",
    "您自己看一下短信里的单号。",
    "我们会按时给您送到。",
    "知道了，我记下来了。",
]


def test_mandarin_forbidden_phrases_are_caught_and_benign_lines_never_are() -> None:
    rule = ZH_RULES[1]
    for text in FORBIDDEN_SAID:
        result = evaluate_rule(rule, {Side.AGENT: [(1.0, 3.0, text)]})
        assert result.status is RuleStatus.FAILED, text
    lines = [(float(i), i + 0.9, text) for i, text in enumerate(BENIGN)]
    result = evaluate_rule(rule, {Side.AGENT: lines})
    assert result.evidence == ()
    assert result.status is RuleStatus.PASSED


def test_without_pypinyin_mandarin_matches_characters_and_misses_homophones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(phrases, "_PINYIN", None)
    assert backends()["pypinyin"] is False
    rule = ZH_RULES[0]
    exact = evaluate_rule(rule, {Side.AGENT: [(0.5, 3.0, "您好，华特运输，请问")]})
    assert exact.status is RuleStatus.PASSED
    homophone = evaluate_rule(rule, {Side.AGENT: [(0.5, 3.0, "您好，话特运输，请问")]})
    assert homophone.status is RuleStatus.FAILED
    forbidden = evaluate_rule(ZH_RULES[1], {Side.AGENT: [(1.0, 2.0, "这个我真的不知道")]})
    assert forbidden.status is RuleStatus.FAILED


def test_without_rapidfuzz_the_verdicts_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    transcript = {
        Side.AGENT: [
            (1.0, 4.0, "hello hua te transport this is lily"),
            (30.0, 34.0, "let me reed that back to you"),
            (60.0, 63.0, "thank you for colling goodbye"),
        ],
        Side.CALLER: [(10.0, 14.0, "i want to make a complain about the driver")],
    }
    with_rf = evaluate_rules(EN_RULES, transcript, 64.0)
    zh_lines = {Side.AGENT: [(float(i), i + 0.9, t) for i, t in enumerate(BENIGN)]}
    zh_with_rf = evaluate_rules(ZH_RULES, zh_lines)
    monkeypatch.setattr(phrases, "_RAPIDFUZZ", None)
    assert backends()["rapidfuzz"] is False
    without = evaluate_rules(EN_RULES, transcript, 64.0)
    assert {k: r.status for k, r in without.items()} == {k: r.status for k, r in with_rf.items()}
    for k, r in without.items():
        for a, b in zip(r.evidence, with_rf[k].evidence, strict=True):
            assert a.matched == b.matched
            assert a.score == pytest.approx(b.score, abs=3)
    zh_without = evaluate_rules(ZH_RULES, zh_lines)
    assert {k: r.status for k, r in zh_without.items()} == {
        k: r.status for k, r in zh_with_rf.items()
    }


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"kind": RuleKind.REQUIRED, "phrases": ()}, "qa-rule-no-phrases"),
        ({"kind": RuleKind.REQUIRED, "phrases": (" ",)}, "qa-rule-no-phrases"),
        ({"kind": RuleKind.REQUIRED, "phrases": ("x",), "threshold": 120}, "qa-rule-threshold"),
        ({"kind": RuleKind.REQUIRED_AFTER, "phrases": ("x",)}, "qa-rule-no-triggers"),
        ({"kind": RuleKind.REQUIRED, "phrases": ("x",), "window_s": (5, 1)}, "qa-rule-window"),
    ],
)
def test_bad_rules_are_refused_with_a_stable_id(kwargs: dict[str, object], error: str) -> None:
    with pytest.raises(QaError) as err:
        PhraseRule("r", **kwargs)  # type: ignore[arg-type]
    assert err.value.id == error


def test_two_rules_with_one_id_are_refused() -> None:
    with pytest.raises(QaError) as err:
        evaluate_rules([EN_RULES[0], EN_RULES[0]], {})
    assert err.value.id == "qa-rule-duplicate-id"
