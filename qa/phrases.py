"""Phrase rules over a transcript: required in a window, forbidden, required after a trigger.

Rules are data (`PhraseRule`); a transcript is, per side, a list of (start_s, end_s, text)
lines from speech recognition. Matching works on tokens: English words, and for Mandarin
one token per character, read as pinyin without tones when pypinyin is installed, so a
recogniser's homophone (华特 heard as 话特) still matches. Each phrase is tried exactly
first (the same tokens in a row), then fuzzily: windows of the line one token shorter,
as long and one token longer than the phrase are scored against it (rapidfuzz's ratio;
difflib's when rapidfuzz is missing) and the best window counts when it reaches the
rule's threshold. Windows snap to token boundaries, so a phrase never matches inside a
longer word ("no" in "know") or across half a syllable; rapidfuzz's partial ratio of the
phrase against the whole line is the cheap first test that skips lines with no chance.

Without pypinyin Mandarin is compared character by character (homophones then miss);
without rapidfuzz the scores come from difflib (slower, slightly different numbers).
Both are optional imports; `BACKENDS` says which are in use.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from qa.metrics import LineLike, as_lines
from qa.model import QaError, Side, TranscriptLine

Scorer = Callable[[str, str], float]


def _load_rapidfuzz() -> tuple[Scorer, Scorer] | None:
    try:
        from rapidfuzz import fuzz
    except ImportError:
        return None
    return fuzz.ratio, fuzz.partial_ratio


def _load_pinyin() -> Callable[[str], list[str]] | None:
    try:
        from pypinyin import Style, lazy_pinyin
    except ImportError:
        return None

    def to_pinyin(run: str) -> list[str]:
        # Style.NORMAL: no tone marks, ü as "v"; a recogniser's tone errors are invisible.
        return lazy_pinyin(run, style=Style.NORMAL)

    return to_pinyin


# Module state so tests can take a backend away and see the fallback.
_RAPIDFUZZ = _load_rapidfuzz()
_PINYIN = _load_pinyin()


def backends() -> dict[str, bool]:
    """Which optional matchers are in use."""
    return {"rapidfuzz": _RAPIDFUZZ is not None, "pypinyin": _PINYIN is not None}


def _difflib_ratio(a: str, b: str) -> float:
    return 100.0 * difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _ratio(a: str, b: str) -> float:
    return float(_RAPIDFUZZ[0](a, b)) if _RAPIDFUZZ is not None else _difflib_ratio(a, b)


class RuleKind(enum.StrEnum):
    REQUIRED = "required"  # said at least once within the rule's window
    FORBIDDEN = "forbidden"  # never said
    REQUIRED_AFTER = "required_after"  # said within `within_s` after a trigger


class RuleStatus(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"


class MatchKind(enum.StrEnum):
    EXACT = "exact"  # the same words or characters
    HOMOPHONE = "homophone"  # other characters, the same toneless pinyin
    FUZZY = "fuzzy"  # close enough by score


@dataclass(frozen=True)
class PhraseRule:
    """A rule as data. Thresholds are 0..100 scores (100 = exact)."""

    id: str
    kind: RuleKind
    phrases: tuple[str, ...]
    side: Side | None = Side.AGENT  # None: either side
    threshold: float = 85.0
    # REQUIRED: the span of the call the phrase must start in, seconds; counted back from
    # the end of the call when from_end (a closing phrase in the last 30 s: (0, 30)).
    window_s: tuple[float, float] | None = None
    from_end: bool = False
    # REQUIRED_AFTER: what triggers the rule (a complaint), said by whom, and how soon the
    # required phrase must follow.
    triggers: tuple[str, ...] = ()
    trigger_side: Side | None = Side.CALLER
    trigger_threshold: float | None = None
    within_s: float = 60.0

    def __post_init__(self) -> None:
        if not self.phrases or not all(p.strip() for p in self.phrases):
            raise QaError("qa-rule-no-phrases", self.id)
        if not 0 <= self.threshold <= 100:
            raise QaError("qa-rule-threshold", self.id)
        if self.kind is RuleKind.REQUIRED_AFTER and not self.triggers:
            raise QaError("qa-rule-no-triggers", self.id)
        if self.window_s is not None and self.window_s[1] < self.window_s[0]:
            raise QaError("qa-rule-window", self.id)


@dataclass(frozen=True)
class Hit:
    """Evidence: a phrase found in a transcript line."""

    rule_id: str
    side: Side
    phrase: str
    matched: str  # the words of the line that matched
    score: float
    how: MatchKind
    at_s: float  # where in the line, interpolated by character position
    line: TranscriptLine
    trigger: bool = False  # a trigger of a REQUIRED_AFTER rule, not the phrase itself


@dataclass(frozen=True)
class RuleResult:
    """A rule's verdict with every hit that led to it."""

    rule_id: str
    status: RuleStatus
    evidence: tuple[Hit, ...]


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+(?:'[^\W_{_CJK}]+)*")
_HAS_CJK = re.compile(rf"[{_CJK}]")


@dataclass(frozen=True)
class _Token:
    key: str  # what is compared: a casefolded word, a toneless syllable, a character
    raw: str
    start: int  # character offsets in the line
    end: int


def tokens(text: str) -> list[_Token]:
    """Words and (per character) CJK tokens of a text, with their offsets."""
    out: list[_Token] = []
    for m in _TOKEN.finditer(text):
        run = m.group()
        if _HAS_CJK.match(run):
            # Whole runs go to pypinyin so polyphones are read in context (银行 hang).
            keys = _PINYIN(run) if _PINYIN is not None else list(run)
            if len(keys) != len(run):  # never expected for pure CJK; be safe
                keys = list(run)
            for i, (ch, key) in enumerate(zip(run, keys, strict=True)):
                out.append(_Token(key.casefold(), ch, m.start() + i, m.start() + i + 1))
        else:
            out.append(_Token(run.casefold(), run, m.start(), m.end()))
    return out


def _raw(t: _Token) -> str:
    return t.raw.casefold()


def _key(t: _Token) -> str:
    return t.key


def _joined(toks: Sequence[_Token]) -> str:
    # Syllables and words are spaced so a boundary costs something; characters (no
    # pypinyin) are not, as Chinese text has no spaces.
    sep = "" if toks and _PINYIN is None and _HAS_CJK.match(toks[0].raw) else " "
    return sep.join(t.key for t in toks)


@dataclass(frozen=True)
class _Match:
    score: float
    how: MatchKind
    first: int
    last: int  # token indices, inclusive


def match(phrase: str, text: str, threshold: float) -> _Match | None:
    """The best match of `phrase` in `text` scoring at least `threshold`, exact first."""
    p, t = tokens(phrase), tokens(text)
    m = len(p)
    if m == 0 or not t:
        return None
    # Exact: the same characters or words; then the same keys (toneless pinyin) with other
    # characters, a homophone. Raw text is compared too because pypinyin reads a polyphone
    # by its context, which may differ between the phrase and the line.
    for kind, key in ((MatchKind.EXACT, _raw), (MatchKind.HOMOPHONE, _key)):
        want = [key(x) for x in p]
        have = [key(x) for x in t]
        for i in range(len(t) - m + 1):
            if have[i : i + m] == want:
                return _Match(100.0, kind, i, i + m - 1)
    needle = _joined(p)
    if _RAPIDFUZZ is not None and _RAPIDFUZZ[1](needle, _joined(t)) < threshold - 15:
        return None
    best: _Match | None = None
    for size in (m - 1, m, m + 1):
        if size < 1 or size > len(t) or (size < m and m < 3):
            continue  # dropping a token from a 1- or 2-token phrase is another phrase
        for i in range(len(t) - size + 1):
            score = _ratio(needle, _joined(t[i : i + size]))
            if score >= threshold and (best is None or score > best.score):
                best = _Match(round(score, 1), MatchKind.FUZZY, i, i + size - 1)
    return best


def find(
    rule_id: str,
    phrases: Iterable[str],
    lines: Mapping[Side, Sequence[TranscriptLine]],
    sides: Iterable[Side],
    threshold: float,
    trigger: bool = False,
) -> list[Hit]:
    """Every line of the given sides holding one of the phrases (best phrase per line)."""
    hits: list[Hit] = []
    for side in sides:
        for line in lines.get(side, ()):
            best: tuple[str, _Match] | None = None
            for phrase in phrases:
                found = match(phrase, line.text, threshold)
                if found is not None and (best is None or found.score > best[1].score):
                    best = (phrase, found)
            if best is None:
                continue
            phrase, found = best
            toks = tokens(line.text)
            a, b = toks[found.first].start, toks[found.last].end
            frac = a / max(len(line.text), 1)
            hits.append(
                Hit(
                    rule_id=rule_id,
                    side=side,
                    phrase=phrase,
                    matched=line.text[a:b],
                    score=found.score,
                    how=found.how,
                    at_s=round(line.start_s + frac * (line.end_s - line.start_s), 3),
                    line=line,
                    trigger=trigger,
                )
            )
    return sorted(hits, key=lambda h: h.at_s)


def _sides(side: Side | None) -> tuple[Side, ...]:
    return tuple(Side) if side is None else (side,)


def evaluate_rule(
    rule: PhraseRule,
    transcript: Mapping[Side, Sequence[LineLike]],
    duration_s: float | None = None,
) -> RuleResult:
    """One rule's verdict on a transcript.

    A rule whose side has no transcript lines at all is not applicable: silence or a
    failed recognition is no evidence either way. `duration_s` (the call's length, for
    windows counted from the end) defaults to the last line's end.
    """
    lines = {Side(k): as_lines(v) for k, v in transcript.items()}
    sides = _sides(rule.side)
    if not any(lines.get(s) for s in sides):
        return RuleResult(rule.id, RuleStatus.NOT_APPLICABLE, ())
    if duration_s is None:
        duration_s = max((x.end_s for v in lines.values() for x in v), default=0.0)
    hits = find(rule.id, rule.phrases, lines, sides, rule.threshold)
    if rule.kind is RuleKind.FORBIDDEN:
        return RuleResult(rule.id, RuleStatus.FAILED if hits else RuleStatus.PASSED, tuple(hits))
    if rule.kind is RuleKind.REQUIRED:
        if rule.window_s is not None:
            lo, hi = rule.window_s
            if rule.from_end:
                lo, hi = duration_s - hi, duration_s - lo
            hits = [h for h in hits if lo <= h.at_s <= hi]
        return RuleResult(rule.id, RuleStatus.PASSED if hits else RuleStatus.FAILED, tuple(hits))
    tsides = _sides(rule.trigger_side)
    tthreshold = rule.threshold if rule.trigger_threshold is None else rule.trigger_threshold
    triggers = find(rule.id, rule.triggers, lines, tsides, tthreshold, trigger=True)
    if not triggers:
        return RuleResult(rule.id, RuleStatus.NOT_APPLICABLE, ())
    # Mentions of the trigger within `within_s` of the first are one matter (a caller
    # says "complaint" three times while describing it): one response answers them all.
    groups: list[list[Hit]] = []
    for t in triggers:
        if groups and t.at_s - groups[-1][0].at_s <= rule.within_s:
            groups[-1].append(t)
        else:
            groups.append([t])
    evidence: list[Hit] = []
    ok = True
    for g in groups:
        start = g[0].at_s
        answers = [h for h in hits if start <= h.at_s <= start + rule.within_s]
        evidence += g + answers
        ok = ok and bool(answers)
    status = RuleStatus.PASSED if ok else RuleStatus.FAILED
    return RuleResult(rule.id, status, tuple(sorted(evidence, key=lambda h: h.at_s)))


def evaluate_rules(
    rules: Iterable[PhraseRule],
    transcript: Mapping[Side, Sequence[LineLike]],
    duration_s: float | None = None,
) -> dict[str, RuleResult]:
    """Every rule's verdict, by rule id."""
    out: dict[str, RuleResult] = {}
    for rule in rules:
        if rule.id in out:
            raise QaError("qa-rule-duplicate-id", rule.id)
        out[rule.id] = evaluate_rule(rule, transcript, duration_s)
    return out
