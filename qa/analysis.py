"""One call end to end: both channels' activity, the metrics, the phrase rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from qa.audio import PcmLike
from qa.metrics import EventLike, Transcript, call_metrics
from qa.model import CallMetrics, ChannelActivity, MetricsParams, Side, VadParams
from qa.phrases import PhraseRule, RuleResult, evaluate_rules
from qa.vad import analyse_channel


@dataclass(frozen=True)
class CallAnalysis:
    """Everything the engine says about one call; `rules` is empty without a transcript."""

    caller: ChannelActivity
    agent: ChannelActivity
    metrics: CallMetrics
    rules: Mapping[str, RuleResult] = field(default_factory=dict)


def analyse_call(
    caller: PcmLike,
    caller_rate: int,
    agent: PcmLike,
    agent_rate: int,
    events: Iterable[EventLike] = (),
    transcript: Transcript | None = None,
    rules: Iterable[PhraseRule] = (),
    vad: VadParams | None = None,
    params: MetricsParams | None = None,
) -> CallAnalysis:
    """Analyse a call's two mono channels (16-bit PCM) with its events and transcript."""
    c = analyse_channel(caller, caller_rate, Side.CALLER, vad)
    a = analyse_channel(agent, agent_rate, Side.AGENT, vad)
    m = call_metrics(c, a, events, transcript, params)
    results = evaluate_rules(rules, transcript, m.duration_s) if transcript is not None else {}
    return CallAnalysis(c, a, m, results)
