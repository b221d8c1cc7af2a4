from __future__ import annotations

import pytest

from qa import (
    Band,
    Binding,
    BindingSource,
    Form,
    QaError,
    Question,
    QuestionKind,
    RuleResult,
    RuleStatus,
    Section,
    SectionScore,
    evaluate,
    suggest,
)
from qa.scorecard import Answer
from tests.qa.rules import FORM

RULE, METRIC = BindingSource.RULE, BindingSource.METRIC
YES_NO, SCALE = QuestionKind.YES_NO, QuestionKind.SCALE

ALL_GOOD: dict[str, Answer] = {
    "greeting": True,
    "answered_in_time": True,
    "courtesy": 5,
    "read_back": True,
    "promised_time": True,
    "no_dead_air": True,
    "no_arguing": True,
    "confidentiality": True,
}


def test_all_good_scores_100_and_is_excellent() -> None:
    e = evaluate(FORM, ALL_GOOD)
    assert (e.score, e.band, e.critical_failed) == (100.0, "excellent", ())
    assert e.sections == (
        SectionScore("opening", 100.0, 20.0),
        SectionScore("handling", 100.0, 50.0),
        SectionScore("compliance", 100.0, 30.0),
    )


def test_weights_scale_points_and_na_give_the_hand_computed_score() -> None:
    answers = {
        **ALL_GOOD,
        "greeting": False,  # opening: 1 of 3 weight points
        "courtesy": 4,  # 3/4 of its weight 2
        "promised_time": None,  # drops out: handling = (1.5 + 1 + 1) / 4
    }
    e = evaluate(FORM, answers)
    # 20 · 1/3 + 50 · 7/8 + 30 · 1 = 80.41666…
    assert e.score == 80.42
    assert e.band == "good"
    assert e.sections[0].score == 33.33
    assert e.sections[1].score == 87.5


def test_a_failed_critical_item_zeroes_the_whole_evaluation() -> None:
    e = evaluate(FORM, {**ALL_GOOD, "no_arguing": False})
    assert (e.score, e.band, e.critical_failed) == (0.0, "failing", ("no_arguing",))
    assert e.sections[0].score == 100.0  # the sections still say what was right


@pytest.mark.parametrize(
    ("courtesy", "expected"), [(1, 0.0), (2, 25.0), (3, 50.0), (4, 75.0), (5, 100.0)]
)
def test_scale_answers_score_linearly_from_the_bottom(courtesy: int, expected: float) -> None:
    form = Form("f", (Section("s", (Question("q", SCALE, scale_max=5),)),))
    assert evaluate(form, {"q": courtesy}).score == expected


def test_a_section_of_nothing_but_na_drops_out_of_the_form() -> None:
    form = Form(
        "f",
        (
            Section("basic", (Question("a"),), weight=60),
            Section(
                "complaint",
                (Question("rb", allow_na=True), Question("pt", allow_na=True)),
                weight=40,
            ),
        ),
    )
    e = evaluate(form, {"a": True, "rb": None, "pt": None})
    assert e.score == 100.0
    assert e.sections[1] == SectionScore("complaint", None, 0.0)
    assert evaluate(form, {"a": True, "rb": False, "pt": None}).score == 60.0


@pytest.mark.parametrize(
    ("yes_weight", "band"),
    [(0.9, "excellent"), (0.75, "good"), (0.6, "needs_improvement"), (0.59, "failing")],
)
def test_band_boundaries_are_exact(yes_weight: float, band: str) -> None:
    """0.9 of the weight is exactly 90 (floats would make it 89.99999999999999)."""
    no_weight = round(1 - yes_weight, 2)
    form = Form(
        "f", (Section("s", (Question("y", weight=yes_weight), Question("n", weight=no_weight))),)
    )
    e = evaluate(form, {"y": True, "n": False})
    assert e.score == round(yes_weight * 100, 2)
    assert e.band == band


def test_custom_bands() -> None:
    form = Form(
        "f",
        (Section("s", (Question("q", SCALE, scale_max=3),)),),
        bands=(Band("pass", 50), Band("fail", 0)),
    )
    assert evaluate(form, {"q": 2}).band == "pass"
    assert evaluate(form, {"q": 1}).band == "fail"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"courtesy": 0}, "qa-answer-out-of-scale"),
        ({"courtesy": 6}, "qa-answer-out-of-scale"),
        ({"courtesy": True}, "qa-answer-out-of-scale"),
        ({"greeting": 1}, "qa-answer-not-yes-no"),
        ({"greeting": None}, "qa-answer-na-not-allowed"),
        ({"nonsense": True}, "qa-answer-unknown-question"),
    ],
)
def test_bad_answers_are_refused_with_a_stable_id(change: dict[str, Answer], error: str) -> None:
    with pytest.raises(QaError) as err:
        evaluate(FORM, {**ALL_GOOD, **change})
    assert err.value.id == error


def test_a_missing_answer_is_refused() -> None:
    answers = dict(ALL_GOOD)
    del answers["courtesy"]
    with pytest.raises(QaError) as err:
        evaluate(FORM, answers)
    assert (err.value.id, err.value.detail) == ("qa-answer-missing", "courtesy")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (lambda: Form("f", (Section("s", (Question("a"), Question("a"))),)), "duplicate"),
        (lambda: Form("f", (Section("s", (Question("a", SCALE, critical=True),)),)), "critical"),
        (lambda: Form("f", (Section("s", (Question("a", SCALE, scale_max=1),)),)), "scale"),
        (lambda: Form("f", (Section("s", (Question("a", weight=-1),)),)), "negative"),
        (lambda: Form("f", (Section("s", (Question("a"),)),), (Band("x", 10),)), "bands"),
        (lambda: Binding(METRIC, "x", "=>", 1), "operator"),
    ],
)
def test_bad_forms_are_refused(form: object, error: str) -> None:
    with pytest.raises(QaError) as err:
        form()  # type: ignore[operator]
    assert error in err.value.id


def test_suggestions_follow_rules_and_metrics() -> None:
    rules = {
        "greeting": RuleResult("greeting", RuleStatus.PASSED, ()),
        "read_back": RuleResult("read_back", RuleStatus.NOT_APPLICABLE, ()),
        "promised_time": RuleResult("promised_time", RuleStatus.FAILED, ()),
        # no_arguing: no result (not evaluated) — no suggestion
    }
    metrics: dict[str, float | bool | None] = {
        "answered_within_rings": False,
        "longest_silence_s": 12.5,
    }
    s = suggest(FORM, metrics, rules)
    assert {k: v.answer for k, v in s.items()} == {
        "greeting": True,
        "answered_in_time": False,
        "read_back": None,
        "promised_time": False,
        "no_dead_air": False,
    }
    assert s["no_dead_air"].value == 12.5 and s["no_dead_air"].source is METRIC
    assert s["promised_time"].value == "failed"
    assert suggest(FORM, {"longest_silence_s": 10.0}, {})["no_dead_air"].answer is True
    assert "no_dead_air" not in suggest(FORM, {"longest_silence_s": None}, {})


def test_scale_questions_get_the_ends_of_the_scale_and_na_only_where_allowed() -> None:
    form = Form(
        "f",
        (
            Section(
                "s",
                (
                    Question("tone", SCALE, scale_max=4, binding=Binding(RULE, "polite")),
                    Question("rb", binding=Binding(RULE, "read_back")),
                ),
            ),
        ),
    )
    passed = {"polite": RuleResult("polite", RuleStatus.PASSED, ())}
    failed = {"polite": RuleResult("polite", RuleStatus.FAILED, ())}
    na = {"read_back": RuleResult("read_back", RuleStatus.NOT_APPLICABLE, ())}
    assert suggest(form, {}, passed)["tone"].answer == 4
    assert suggest(form, {}, failed)["tone"].answer == 1
    assert suggest(form, {}, na) == {}  # rb does not allow N/A: left to the evaluator
