# ruff: noqa: RUF001 — Chinese phrases keep their own full-width punctuation, on purpose.
"""The rulebook's call-handling rules (§3) as phrase rules, in English and Mandarin: greet
with the company script within 10 s, polite phrases, no arguing, read a complaint back,
give a promised time, close politely; and a scorecard form whose questions are bound to
them and to the call metrics."""

from __future__ import annotations

from qa import Binding, BindingSource, Form, PhraseRule, Question, QuestionKind, RuleKind, Section

RULE, METRIC = BindingSource.RULE, BindingSource.METRIC
SCALE = QuestionKind.SCALE

EN_RULES = (
    PhraseRule(
        "greeting",
        RuleKind.REQUIRED,
        ("Hello, Huate Transport", "Huate Transport"),
        window_s=(0, 10),
    ),
    PhraseRule("polite", RuleKind.REQUIRED, ("please", "thank you")),
    PhraseRule(
        "closing",
        RuleKind.REQUIRED,
        ("thank you for calling", "goodbye"),
        window_s=(0, 30),
        from_end=True,
    ),
    PhraseRule(
        "no_arguing",
        RuleKind.FORBIDDEN,
        ("calm down", "that is not my problem", "you are wrong"),
        threshold=88,
    ),
    PhraseRule(
        "read_back",
        RuleKind.REQUIRED_AFTER,
        ("let me read that back", "is that correct"),
        triggers=("complaint", "complain"),
        within_s=60,
    ),
    PhraseRule(
        "promised_time",
        RuleKind.REQUIRED_AFTER,
        ("within twenty four hours", "call you back"),
        triggers=("complaint", "complain"),
        within_s=180,
    ),
)
ZH_RULES = (
    PhraseRule("greeting", RuleKind.REQUIRED, ("您好，华特运输",), window_s=(0, 10)),
    PhraseRule(
        "forbidden", RuleKind.FORBIDDEN, ("不知道", "不归我管", "你自己看着办"), threshold=90
    ),
    PhraseRule(
        "confirmation",
        RuleKind.REQUIRED_AFTER,
        ("我跟您确认一下", "确认一下"),
        triggers=("投诉",),
        within_s=60,
        threshold=88,
    ),
    PhraseRule("promised_time", RuleKind.REQUIRED_AFTER, ("二十四小时内",), triggers=("投诉",)),
)

FORM = Form(
    "calls-v1",
    (
        Section(
            "opening",
            (
                Question("greeting", weight=2, binding=Binding(RULE, "greeting")),
                Question("answered_in_time", binding=Binding(METRIC, "answered_within_rings")),
            ),
            weight=20,
        ),
        Section(
            "handling",
            (
                Question("courtesy", SCALE, weight=2, scale_max=5),
                Question("read_back", allow_na=True, binding=Binding(RULE, "read_back")),
                Question("promised_time", allow_na=True, binding=Binding(RULE, "promised_time")),
                Question(
                    "no_dead_air",
                    binding=Binding(METRIC, "longest_silence_s", "<=", 10.0),
                ),
            ),
            weight=50,
        ),
        Section(
            "compliance",
            (
                Question("no_arguing", critical=True, binding=Binding(RULE, "no_arguing")),
                Question("confidentiality", critical=True),
            ),
            weight=30,
        ),
    ),
)
