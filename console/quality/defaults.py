# ruff: noqa: RUF001 — Chinese phrases keep their own full-width punctuation, on purpose.
"""The centre's default phrase rules (docs/rules.md §3), the first rules version of every
database (migration 0010 stores it): greet with the company script within the first 10 s,
close politely in the last 30 s, no forbidden words, read a complaint back and give a
promised time after it, in Mandarin (zh-CN) and English (en).

Plain data, every field of `qa.PhraseRule` spelled out (the engine's defaults written
down, so a stored version never changes meaning when they do), plus the rule's language.
The same rule ids in both languages: a scorecard question binds to "greeting" whatever
language the call was in.
"""

from __future__ import annotations

from typing import Any

# qa.PhraseRule's defaults, as stored.
RULE_FIELDS: dict[str, Any] = {
    "side": "agent",
    "threshold": 85.0,
    "window_s": None,
    "from_end": False,
    "triggers": [],
    "trigger_side": "caller",
    "trigger_threshold": None,
    "within_s": 60.0,
}


def _rule(language: str, rule_id: str, kind: str, phrases: list[str], **kw: Any) -> dict[str, Any]:
    unknown = set(kw) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"unknown rule fields {sorted(unknown)}")
    return {"language": language, "id": rule_id, "kind": kind, "phrases": phrases} | {
        key: kw.get(key, default) for key, default in RULE_FIELDS.items()
    }


DEFAULT_RULES: list[dict[str, Any]] = [
    _rule(
        "zh-CN",
        "greeting",
        "required",
        ["您好，华特运输"],
        window_s=[0.0, 10.0],
    ),
    _rule(
        "zh-CN",
        "closing",
        "required",
        ["感谢您的来电", "再见"],
        window_s=[0.0, 30.0],
        from_end=True,
    ),
    _rule(
        "zh-CN",
        "forbidden",
        "forbidden",
        ["不知道", "不归我管", "你自己看着办"],
        threshold=90.0,
    ),
    _rule(
        "zh-CN",
        "read_back",
        "required_after",
        ["我跟您确认一下", "确认一下"],
        threshold=88.0,
        triggers=["投诉"],
        within_s=60.0,
    ),
    _rule(
        "zh-CN",
        "promised_time",
        "required_after",
        ["二十四小时内"],
        triggers=["投诉"],
        within_s=180.0,
    ),
    _rule(
        "en",
        "greeting",
        "required",
        ["Hello, Huate Transport", "Huate Transport"],
        window_s=[0.0, 10.0],
    ),
    _rule(
        "en",
        "closing",
        "required",
        ["thank you for calling", "goodbye"],
        window_s=[0.0, 30.0],
        from_end=True,
    ),
    _rule(
        "en",
        "forbidden",
        "forbidden",
        ["calm down", "that is not my problem", "you are wrong"],
        threshold=88.0,
    ),
    _rule(
        "en",
        "read_back",
        "required_after",
        ["let me read that back", "is that correct"],
        triggers=["complaint", "complain"],
        within_s=60.0,
    ),
    _rule(
        "en",
        "promised_time",
        "required_after",
        ["within twenty four hours", "call you back"],
        triggers=["complaint", "complain"],
        within_s=180.0,
    ),
]

# The recording library marks a call's metric when it reaches this (seconds): dead air of
# 10 s, 5 s of both sides speaking at once, the agent's first word 5 s after the answer
# (the greeting is due within 10 s: past 5 s the caller has waited in silence).
FLAG_AT: dict[str, float] = {
    "longest_silence_s": 10.0,
    "overtalk_s": 5.0,
    "agent_first_word_s": 5.0,
}
