"""The phrase rules as versioned data: the defaults every database starts with, read the way
the engine takes them, and refused when malformed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from console.core.errors import DomainError
from console.core.models import QaRuleSet, utcnow
from console.node import Hotline
from console.quality import services as quality
from console.quality.defaults import DEFAULT_RULES
from qa import RuleKind, Side


def test_every_database_starts_with_the_default_rules_as_version_1(hotline: Hotline) -> None:
    with hotline.sessions() as s:
        [row] = s.scalars(select(QaRuleSet)).all()
        assert (row.version, row.active, row.created_by) == (1, True, None)
        assert row.rules == DEFAULT_RULES
        book = quality.rule_book(s, utcnow())
    assert book.version == 1
    # Greeting within 10 s, polite closing, no forbidden words, read-back and a promised
    # time after a complaint, in both languages, under the same ids.
    ids = ["greeting", "closing", "forbidden", "read_back", "promised_time"]
    for language in ("zh-CN", "en"):
        rules = {r.id: r for r in book.rules[language]}
        assert list(rules) == ids
        assert rules["greeting"].window_s == (0.0, 10.0)
        assert rules["closing"].from_end and rules["closing"].window_s == (0.0, 30.0)
        assert rules["forbidden"].kind is RuleKind.FORBIDDEN
        assert rules["read_back"].kind is RuleKind.REQUIRED_AFTER
        assert rules["read_back"].trigger_side is Side.CALLER
        assert all(r.side is Side.AGENT for r in rules.values())
    assert "投诉" in {t for r in book.rules["zh-CN"] for t in r.triggers}


def test_the_defaults_spell_out_every_field_as_the_engine_reads_them() -> None:
    parsed = quality.parse_rules(DEFAULT_RULES)
    stored = [quality.rule_data(lang, r) for lang, rules in parsed.items() for r in rules]
    assert stored == DEFAULT_RULES


def test_an_emptied_rules_table_gets_the_defaults_back(hotline: Hotline) -> None:
    with hotline.sessions.begin() as s:
        for row in s.scalars(select(QaRuleSet)):
            s.delete(row)
    with hotline.sessions.begin() as s:
        assert quality.active_version(s) is None
        assert quality.progress(s).rules_version is None
        assert quality.rule_book(s, utcnow()).version == 1
    with hotline.sessions() as s:
        assert quality.active_version(s) == 1


def _with(index: int, **change: Any) -> list[dict[str, Any]]:
    rules = copy.deepcopy(DEFAULT_RULES)
    rules[index].update(change)
    return rules


@pytest.mark.parametrize(
    "data",
    [
        [],
        "greeting",
        [1],
        _with(0, language="fr"),
        _with(0, kind="sometimes"),
        _with(0, phrases=[]),
        _with(0, phrases="您好"),
        _with(0, threshold=120),
        _with(0, window_s=[10, 0]),
        _with(0, window_s=[1, 2, 3]),
        _with(3, triggers=[]),
        _with(0, side="supervisor"),
        _with(0, colour="red"),
        _with(1, id="greeting"),
    ],
)
def test_malformed_rules_are_refused(data: Any) -> None:
    with pytest.raises(DomainError) as e:
        quality.parse_rules(data)
    assert e.value.error_id == "quality-rules-invalid"


def test_publishing_malformed_rules_stores_nothing(hotline: Hotline) -> None:
    with hotline.sessions.begin() as s, pytest.raises(DomainError):
        quality.publish_rules(s, _with(0, kind="sometimes"), None, utcnow())
    with hotline.sessions() as s:
        assert quality.active_version(s) == 1
        assert len(s.scalars(select(QaRuleSet)).all()) == 1
