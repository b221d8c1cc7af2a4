"""Scorecard arithmetic: forms, answers, weights, critical items, bands, suggestions.

A form has weighted sections of weighted questions. A question is answered yes/no, on a
scale 1..N, or N/A where the form allows it. A section scores the weighted mean of its
answered questions (yes = 1, no = 0, scale v = (v - 1) / (N - 1)); the evaluation scores
the weighted mean of its sections that have any answered question, times 100. N/A drops a
question's weight out of its section, and a section with nothing but N/A drops out of the
form, so N/A never helps or hurts. A critical question answered "no" makes the whole
evaluation 0, whatever the rest (the rulebook's points system, §6, on a 100 scale).

Arithmetic is exact (fractions; decimal weights read as written), so 90 is "excellent" and
not 89.99999999999999 "good"; the score is rounded to two decimals only on the way out.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from qa.model import QaError
from qa.phrases import RuleResult, RuleStatus

Answer = bool | int | None  # yes/no, a scale point, or None for N/A


class QuestionKind(enum.StrEnum):
    YES_NO = "yes_no"
    SCALE = "scale"


class BindingSource(enum.StrEnum):
    RULE = "rule"  # a phrase rule's verdict, by rule id
    METRIC = "metric"  # a named figure of CallMetrics.values()


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Binding:
    """What the engine can measure for a question: a rule, or a metric compared to a
    threshold (`answered_within_rings` is already yes/no and needs none)."""

    source: BindingSource
    name: str
    op: str = "=="
    threshold: float | None = None

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise QaError("qa-binding-operator", self.op)


@dataclass(frozen=True)
class Question:
    id: str
    kind: QuestionKind = QuestionKind.YES_NO
    weight: float = 1.0
    scale_max: int = 5  # SCALE: answers are 1..scale_max
    allow_na: bool = False
    critical: bool = False  # a "no" makes the whole evaluation 0 (yes/no questions only)
    binding: Binding | None = None


@dataclass(frozen=True)
class Section:
    id: str
    questions: tuple[Question, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class Band:
    id: str
    min_score: float


DEFAULT_BANDS = (
    Band("excellent", 90),
    Band("good", 75),
    Band("needs_improvement", 60),
    Band("failing", 0),
)


@dataclass(frozen=True)
class Form:
    id: str
    sections: tuple[Section, ...]
    bands: tuple[Band, ...] = DEFAULT_BANDS

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for section in self.sections:
            if section.weight < 0:
                raise QaError("qa-form-negative-weight", section.id)
            for q in section.questions:
                if q.id in seen:
                    raise QaError("qa-form-duplicate-question", q.id)
                seen.add(q.id)
                if q.weight < 0:
                    raise QaError("qa-form-negative-weight", q.id)
                if q.kind is QuestionKind.SCALE and q.scale_max < 2:
                    raise QaError("qa-form-scale-too-short", q.id)
                if q.critical and q.kind is not QuestionKind.YES_NO:
                    raise QaError("qa-form-critical-not-yes-no", q.id)
        if not self.bands or min(b.min_score for b in self.bands) > 0:
            raise QaError("qa-form-bands-incomplete", "a band must start at 0")

    def questions(self) -> dict[str, Question]:
        """Every question by id."""
        return {q.id: q for s in self.sections for q in s.questions}


@dataclass(frozen=True)
class SectionScore:
    id: str
    score: float | None  # 0..100; None when every answer was N/A
    weight: float  # the weight it carried (0 when it dropped out)


@dataclass(frozen=True)
class Evaluation:
    score: float  # 0..100, two decimals
    band: str
    critical_failed: tuple[str, ...]
    sections: tuple[SectionScore, ...]


def _exact(x: float | int) -> Fraction:
    # repr of a float is the shortest decimal that reads back as it: 0.1 is 1/10 here.
    return Fraction(x) if isinstance(x, int) else Fraction(repr(x))


def _fraction(q: Question, a: Answer) -> Fraction:
    """A valid answer's share of its question's weight."""
    if q.kind is QuestionKind.YES_NO:
        if not isinstance(a, bool):
            raise QaError("qa-answer-not-yes-no", q.id)
        return Fraction(int(a))
    if isinstance(a, bool) or not isinstance(a, int) or not 1 <= a <= q.scale_max:
        raise QaError("qa-answer-out-of-scale", f"{q.id}: {a!r} not in 1..{q.scale_max}")
    return Fraction(a - 1, q.scale_max - 1)


def band_for(form: Form, score: Fraction | float) -> str:
    """The band a score falls in (the highest whose minimum it reaches)."""
    for band in sorted(form.bands, key=lambda b: b.min_score, reverse=True):
        if score >= _exact(band.min_score):
            return band.id
    return min(form.bands, key=lambda b: b.min_score).id


def evaluate(form: Form, answers: Mapping[str, Answer]) -> Evaluation:
    """Score a completed form. Every question needs an answer (None = N/A where allowed)."""
    questions = form.questions()
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise QaError("qa-answer-unknown-question", ", ".join(unknown))
    critical: list[str] = []
    sections: list[tuple[Section, Fraction | None]] = []
    for section in form.sections:
        got = Fraction(0)
        weight = Fraction(0)
        for q in section.questions:
            if q.id not in answers:
                raise QaError("qa-answer-missing", q.id)
            a = answers[q.id]
            if a is None:
                if not q.allow_na:
                    raise QaError("qa-answer-na-not-allowed", q.id)
                continue
            share = _fraction(q, a)
            if q.critical and share == 0:
                critical.append(q.id)
            w = _exact(q.weight)
            got += w * share
            weight += w
        sections.append((section, got / weight if weight else None))
    used = [(s, v) for s, v in sections if v is not None and s.weight > 0]
    total_w = sum((_exact(s.weight) for s, _ in used), Fraction(0))
    score = (
        sum((_exact(s.weight) * v for s, v in used), Fraction(0)) / total_w * 100
        if total_w
        else Fraction(0)
    )
    if critical:
        score = Fraction(0)
    return Evaluation(
        score=round(float(score), 2),
        band=band_for(form, score),
        critical_failed=tuple(critical),
        sections=tuple(
            SectionScore(
                s.id,
                None if v is None else round(float(v * 100), 2),
                float(s.weight) if v is not None else 0.0,
            )
            for s, v in sections
        ),
    )


@dataclass(frozen=True)
class Suggestion:
    """An answer the engine proposes for a bound question, and why."""

    question_id: str
    answer: Answer
    source: BindingSource
    name: str
    value: float | bool | str | None  # the metric's value or the rule's status


def _yes_no_answer(q: Question, ok: bool) -> Answer:
    if q.kind is QuestionKind.YES_NO:
        return ok
    return q.scale_max if ok else 1


def suggest(
    form: Form,
    metrics: Mapping[str, float | bool | None],
    rules: Mapping[str, RuleResult],
) -> dict[str, Suggestion]:
    """Suggested answers for the questions bound to a rule or a metric the call has.

    A passed rule suggests yes (or the top of the scale), a failed one no (or 1), a rule
    not applicable N/A where the question allows it. A metric is compared with the
    binding's threshold; a yes/no metric is taken as it is. Questions whose rule or
    metric is unknown or unmeasured get no suggestion: the evaluator answers them.
    """
    out: dict[str, Suggestion] = {}
    for q in form.questions().values():
        b = q.binding
        if b is None:
            continue
        if b.source is BindingSource.RULE:
            result = rules.get(b.name)
            if result is None:
                continue
            if result.status is RuleStatus.NOT_APPLICABLE:
                if q.allow_na:
                    out[q.id] = Suggestion(q.id, None, b.source, b.name, result.status.value)
                continue
            ok = result.status is RuleStatus.PASSED
            out[q.id] = Suggestion(
                q.id, _yes_no_answer(q, ok), b.source, b.name, result.status.value
            )
            continue
        value = metrics.get(b.name)
        if value is None:
            continue
        if isinstance(value, bool):
            ok = value if b.threshold is None else _OPS[b.op](float(value), b.threshold)
        elif b.threshold is None:
            continue  # a number with nothing to compare it to
        else:
            ok = _OPS[b.op](value, b.threshold)
        out[q.id] = Suggestion(q.id, _yes_no_answer(q, ok), b.source, b.name, value)
    return out
