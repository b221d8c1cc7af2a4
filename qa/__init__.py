"""Call quality analysis, pure: voice activity and music on hold per channel, conversation
metrics, phrase rules over transcripts, scorecard arithmetic.

numpy and the standard library only; rapidfuzz and pypinyin sharpen phrase matching when
installed (see qa.phrases). No web framework, database or SIP stack: callers hand in PCM
arrays, event lists and transcripts, and get ids and figures back, never sentences.
"""

from qa.analysis import CallAnalysis, analyse_call
from qa.metrics import call_metrics, events_timeline
from qa.model import (
    CallEvent,
    CallMetrics,
    ChannelActivity,
    EventTimeline,
    Interruption,
    MetricsParams,
    QaError,
    Segment,
    Side,
    TranscriptLine,
    VadParams,
)
from qa.phrases import (
    Hit,
    MatchKind,
    PhraseRule,
    RuleKind,
    RuleResult,
    RuleStatus,
    evaluate_rule,
    evaluate_rules,
)
from qa.scorecard import (
    Band,
    Binding,
    BindingSource,
    Evaluation,
    Form,
    Question,
    QuestionKind,
    Section,
    SectionScore,
    Suggestion,
    evaluate,
    suggest,
)
from qa.vad import analyse_channel

__all__ = [
    "Band",
    "Binding",
    "BindingSource",
    "CallAnalysis",
    "CallEvent",
    "CallMetrics",
    "ChannelActivity",
    "Evaluation",
    "EventTimeline",
    "Form",
    "Hit",
    "Interruption",
    "MatchKind",
    "MetricsParams",
    "PhraseRule",
    "QaError",
    "Question",
    "QuestionKind",
    "RuleKind",
    "RuleResult",
    "RuleStatus",
    "Section",
    "SectionScore",
    "Segment",
    "Side",
    "Suggestion",
    "TranscriptLine",
    "VadParams",
    "analyse_call",
    "analyse_channel",
    "call_metrics",
    "evaluate",
    "evaluate_rule",
    "evaluate_rules",
    "events_timeline",
    "suggest",
]
