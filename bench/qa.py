"""B6 QA analysis: voice activity, hold music and call metrics on generated calls.

Generates 60 two-leg calls (tests/qa/synth.py): espeak-ng speech in English and Mandarin
on both sides, ring time in the event log, hold music in one channel, dead air, barge-ins,
white or pink background noise at 12-35 dB SNR (a step of +6 dB halfway in some calls),
G.711 μ-law on the 8 kHz legs, agents at 8 or 16 kHz. Each call's truth is kept while it
is laid out: every spoken clip's extent (measured on the clean clip), every hold span,
the events. The engine (qa.analyse_call without a transcript) then runs on the PCM.

Figures: frame-level F1 of speech against the truth (10 ms frames, both channels, all
calls pooled); holds found (a truth hold counts as found when the engine's holds in that
channel cover at least half of it) and false holds (engine holds overlapping no truth
hold); ring time from the events; the metrics of the engine against the same metrics
computed on the truth segments. Speed: CPU seconds of the analysis alone (median of
--repeat runs per call), as call-hours analysed per CPU-minute.

Without speech recognition the rule figures (en_rules_ok, zh_checks_ok) cannot be
measured here and are printed as `na`; tests/qa checks the rules on transcripts.

Run: `python -m bench.qa` (needs espeak-ng; about a minute the first time, while it
speaks the clips into the cache).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine
from qa import analyse_call, call_metrics
from qa.model import ChannelActivity, Side
from qa.segments import intersect, total
from tests.qa.synth import Speaker, SynthCall, f1, f1_counts, frame_labels, random_call


def truth_activity(call: SynthCall, side: Side) -> ChannelActivity:
    """The truth as the engine's own type, to compute reference metrics the same way."""
    return ChannelActivity(side, call.duration_s, call.speech[side], call.holds[side], 0, None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=60)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3, help="timed analyses per call")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "hotline-b6")
    args = ap.parse_args()
    speaker = Speaker(args.cache)
    print(f"B6 QA analysis — {machine()}")
    print(
        f"{'call':<10}{'rates':>11}{'dur s':>7}{'f1 c':>7}{'f1 a':>7}{'holds':>7}"
        f"{'ring s':>8}{'dead air t/e':>14}{'overtalk t/e':>14}{'interr t/e':>12}"
        f"{'syl/s c/a':>11}{'cpu ms':>8}"
    )
    tp = fp = fn = 0
    holds_found = holds_total = false_holds = 0
    ring_ok = 0
    audio_s = 0.0
    cpu_s = 0.0
    for i in range(args.calls):
        call, _built = random_call(speaker, i, args.seed)
        runs: list[float] = []
        for _ in range(max(1, args.repeat)):
            t0 = time.process_time()
            result = analyse_call(
                call.caller, call.caller_rate, call.agent, call.agent_rate, call.events
            )
            runs.append(time.process_time() - t0)
        cpu = statistics.median(runs)
        cpu_s += cpu
        audio_s += call.duration_s
        f1s = []
        found_call = 0
        for side, act in ((Side.CALLER, result.caller), (Side.AGENT, result.agent)):
            counts = f1_counts(
                frame_labels(call.speech[side], call.duration_s),
                frame_labels(act.speech, call.duration_s),
            )
            tp, fp, fn = tp + counts[0], fp + counts[1], fn + counts[2]
            f1s.append(f1(*counts))
            found_here = 0
            for h in call.holds[side]:
                if total(intersect([h], act.holds)) >= 0.5 * h.duration_s:
                    found_here += 1
            holds_found += found_here
            found_call += found_here
            holds_total += len(call.holds[side])
            false_holds += sum(1 for h in act.holds if not intersect([h], call.holds[side]))
        ring_ok += result.metrics.ring_s == call.ring_s
        # Reference metrics: the truth segments through the same arithmetic, no events
        # (holds then come from the truth's music spans, as the engine's from the audio).
        ref = call_metrics(truth_activity(call, Side.CALLER), truth_activity(call, Side.AGENT))
        est = call_metrics(result.caller, result.agent)
        holds_str = f"{found_call}/{sum(len(v) for v in call.holds.values())}"
        rate_c, rate_a = (f"{r:.1f}" if r else "-" for r in est.syllable_rate.values())
        print(
            f"{call.name:<10}{f'{call.caller_rate // 1000}k/{call.agent_rate // 1000}k':>11}"
            f"{call.duration_s:>7.1f}{f1s[0]:>7.3f}{f1s[1]:>7.3f}{holds_str:>7}"
            f"{result.metrics.ring_s or 0:>8.2f}"
            f"{f'{ref.longest_silence_s:.1f}/{est.longest_silence_s:.1f}':>14}"
            f"{f'{ref.overtalk_s:.1f}/{est.overtalk_s:.1f}':>14}"
            f"{f'{len(ref.interruptions)}/{len(est.interruptions)}':>12}"
            f"{f'{rate_c}/{rate_a}':>11}{cpu * 1000:>8.0f}"
        )
    vad_f1 = f1(tp, fp, fn)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    speed = (audio_s / 3600) / (cpu_s / 60) if cpu_s else float("inf")
    print(
        f"{args.calls} calls, {audio_s / 60:.1f} call-minutes; speech frames: precision "
        f"{precision:.3f}, recall {recall:.3f}; ring time right in {ring_ok}/{args.calls}"
    )
    print(
        "en_rules_ok and zh_checks_ok: na — this benchmark runs no speech recognition; "
        "the phrase rules are checked on transcripts in tests/qa"
    )
    print(
        f"RESULT B6 vad_f1={vad_f1:.4f} holds_found={holds_found} holds_total={holds_total} "
        f"call_hours_per_cpu_min={speed:.1f} en_rules_ok=na zh_checks_ok=na "
        f"false_holds={false_holds} vad_precision={precision:.4f} vad_recall={recall:.4f} "
        f"ring_ok={ring_ok}/{args.calls} calls={args.calls}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
