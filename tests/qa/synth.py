# ruff: noqa: RUF001 — Chinese lines keep their own full-width punctuation, on purpose.
"""Generated two-leg calls with known truth, for the QA tests and benchmark B6.

Speech comes from espeak-ng (English `en`, Mandarin `cmn-latn-pinyin` fed tone-numbered
pinyin), resampled with numpy to the channel's rate; hold music is the product's own
chord loop (the idea of telephony/moh.py, re-rendered here with numpy, not imported);
tones, dead air, barge-ins and background noise are laid out on a timeline whose truth is
kept: each clip's spoken extent (measured on the clean clip), hold spans, the events.
"""

from __future__ import annotations

import hashlib
import math
import random
import shutil
import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qa.model import CallEvent, Segment, Side

FloatArray = npt.NDArray[np.float64]
ESPEAK_RATE = 22050
TRUTH_HOP_S = 0.01
# A clip's speech is where its clean signal is within 40 dB of its loudest 10 ms; pauses
# shorter than the VAD's bridge (0.3 s) stay inside the spurt, as in the engine.
TRUTH_RANGE_DB = 40.0
TRUTH_BRIDGE_S = 0.3


@dataclass(frozen=True)
class Phrase:
    """A line of a script: what is written (for transcripts) and what espeak reads."""

    text: str
    spoken: str  # tone-numbered pinyin for Mandarin, the text itself for English
    lang: str  # "en" or "zh"

    @property
    def syllables(self) -> int:
        """Pinyin syllables for Mandarin (exact); vowel groups for English (estimate)."""
        if self.lang == "zh":
            return len(self.spoken.replace(",", " ").replace(".", " ").split())
        groups = 0
        for word in self.spoken.lower().split():
            letters = "".join(c for c in word if c.isalpha())
            prev = False
            count = 0
            for c in letters:
                vowel = c in "aeiouy"
                if vowel and not prev:
                    count += 1
                prev = vowel
            if letters.endswith("e") and count > 1:
                count -= 1
            groups += max(count, 1) if letters else 0
        return groups


def en(text: str) -> Phrase:
    return Phrase(text, text, "en")


def zh(text: str, pinyin: str) -> Phrase:
    return Phrase(text, pinyin, "zh")


GREETING = {
    "en": en("Hello, Huate Transport, this is Lily speaking, how can I help you?"),
    "zh": zh(
        "您好，华特运输，请问有什么可以帮您？",
        "nin2 hao3, hua2 te4 yun4 shu1, qing3 wen4 you3 shen2 me5 ke3 yi3 bang1 nin2.",
    ),
}
HOLD_ASK = {
    "en": en("Could you please hold for a moment while I check that for you?"),
    "zh": zh("请您稍等，我帮您查一下。", "qing3 nin2 shao1 deng3, wo3 bang1 nin2 cha2 yi2 xia4."),
}
HOLD_THANKS = {
    "en": en("Thank you for holding, I have the details now."),
    "zh": zh(
        "感谢您的耐心等待，我查到了。",
        "gan3 xie4 nin2 de5 nai4 xin1 deng3 dai4, wo3 cha2 dao4 le5.",
    ),
}
CLOSING = {
    "en": en("Thank you for calling Huate Transport, have a nice day, goodbye."),
    "zh": zh(
        "感谢您的来电，祝您生活愉快，再见。",
        "gan3 xie4 nin2 de5 lai2 dian4, zhu4 nin2 sheng1 huo2 yu2 kuai4, zai4 jian4.",
    ),
}
CALLER_LINES = {
    "en": [
        en("Hi, I am calling about a parcel that has not arrived yet."),
        en("I want to make a complaint, the driver was very rude to me."),
        en("The tracking number is seven four two nine one eight."),
        en("It was supposed to arrive last Tuesday morning."),
        en("Yes, that is right, my name is Wang and I live in Chaoyang."),
        en("Can you tell me when it will be delivered?"),
        en("Okay, and will somebody call me back about it?"),
        en("No, that is everything, thank you very much."),
    ],
    "zh": [
        zh(
            "你好，我的快递到现在还没有收到。",
            "ni3 hao3, wo3 de5 kuai4 di4 dao4 xian4 zai4 hai2 mei2 you3 shou1 dao4.",
        ),
        zh(
            "我要投诉，你们的司机态度很差。",
            "wo3 yao4 tou2 su4, ni3 men5 de5 si1 ji1 tai4 du4 hen3 cha4.",
        ),
        zh("单号是七四二九一八。", "dan1 hao4 shi4 qi1 si4 er4 jiu3 yi1 ba1."),
        zh("本来上周二就应该到了。", "ben3 lai2 shang4 zhou1 er4 jiu4 ying1 gai1 dao4 le5."),
        zh("对，我姓王，住在朝阳区。", "dui4, wo3 xing4 wang2, zhu4 zai4 chao2 yang2 qu1."),
        zh("那什么时候能送到呢？", "na4 shen2 me5 shi2 hou5 neng2 song4 dao4 ne5?"),
        zh(
            "好的，到时候会有人给我回电话吗？",
            "hao3 de5, dao4 shi2 hou5 hui4 you3 ren2 gei3 wo3 hui2 dian4 hua4 ma5?",
        ),
        zh("没有了，谢谢你。", "mei2 you3 le5, xie4 xie4 ni3."),
    ],
}
AGENT_LINES = {
    "en": [
        en("I am sorry to hear that, may I have your tracking number please?"),
        en("Let me read that back to you, seven four two nine one eight, is that correct?"),
        en("I understand, I have recorded your complaint about the driver."),
        en("The parcel is at our Chaoyang depot and will be delivered tomorrow."),
        en("We will call you back within twenty four hours."),
        en("Is there anything else I can help you with today?"),
    ],
    "zh": [
        zh(
            "非常抱歉，请问您的单号是多少？",
            "fei1 chang2 bao4 qian4, qing3 wen4 nin2 de5 dan1 hao4 shi4 duo1 shao3?",
        ),
        zh(
            "我跟您确认一下，单号是七四二九一八，对吗？",
            "wo3 gen1 nin2 que4 ren4 yi2 xia4, dan1 hao4 shi4 qi1 si4 er4 jiu3 yi1 ba1, dui4 ma5?",
        ),
        zh(
            "明白，您的投诉我已经记录下来了。",
            "ming2 bai2, nin2 de5 tou2 su4 wo3 yi3 jing1 ji4 lu4 xia4 lai2 le5.",
        ),
        zh(
            "您的包裹在朝阳网点，明天给您送到。",
            "nin2 de5 bao1 guo3 zai4 chao2 yang2 wang3 dian3, ming2 tian1 gei3 nin2 song4 dao4.",
        ),
        zh(
            "我们会在二十四小时内给您回电话。",
            "wo3 men5 hui4 zai4 er4 shi2 si4 xiao3 shi2 nei4 gei3 nin2 hui2 dian4 hua4.",
        ),
        zh(
            "请问还有其他可以帮您的吗？", "qing3 wen4 hai2 you3 qi2 ta1 ke3 yi3 bang1 nin2 de5 ma5?"
        ),
    ],
}


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice and delivery: language, variant, speed (wpm), pitch (0..99)."""

    lang: str
    variant: str = ""
    speed: int = 160
    pitch: int = 50

    @property
    def espeak_voice(self) -> str:
        base = "en" if self.lang == "en" else "cmn-latn-pinyin"
        return f"{base}+{self.variant}" if self.variant else base


class Speaker:
    """Renders phrases with espeak-ng into a cache directory (one WAV per distinct line)."""

    def __init__(self, cache: Path) -> None:
        if shutil.which("espeak-ng") is None:  # a missing tool is a failure, never a skip
            raise RuntimeError(
                "espeak-ng is needed to generate test speech: apt-get install espeak-ng"
            )
        self.cache = cache
        cache.mkdir(parents=True, exist_ok=True)
        self._memo: dict[tuple[str, Voice], FloatArray] = {}

    def say(self, spoken: str, voice: Voice) -> FloatArray:
        """The clip at espeak's 22,050 Hz, as floats in [-1, 1), trailing silence trimmed."""
        key = (spoken, voice)
        if key in self._memo:
            return self._memo[key]
        digest = hashlib.sha1(repr(key).encode()).hexdigest()[:16]
        path = self.cache / f"{digest}.wav"
        if not path.exists():
            tmp = path.with_suffix(".tmp.wav")
            cmd = ["espeak-ng", "-v", voice.espeak_voice, "-s", str(voice.speed)]
            cmd += ["-p", str(voice.pitch), "-w", str(tmp), spoken]
            subprocess.run(cmd, check=True, capture_output=True)
            tmp.replace(path)
        with wave.open(str(path), "rb") as w:
            assert w.getframerate() == ESPEAK_RATE and w.getsampwidth() == 2
            raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        x = raw.astype(np.float64) / 32768.0
        self._memo[key] = x
        return x


def resample(x: FloatArray, src: int, dst: int) -> FloatArray:
    """Band-limited resampling by FFT (the clip is padded so its ends do not wrap)."""
    if src == dst:
        return x.copy()
    pad = src // 10
    xp = np.concatenate([x, np.zeros(pad)])
    n_out = round(len(xp) * dst / src)
    spec = np.fft.rfft(xp)
    keep = n_out // 2 + 1
    if keep <= len(spec):
        spec = spec[:keep]
    else:
        spec = np.concatenate([spec, np.zeros(keep - len(spec), dtype=spec.dtype)])
    y = np.fft.irfft(spec, n_out) * (n_out / len(xp))
    return np.asarray(y[: round(len(x) * dst / src)], dtype=np.float64)


def spoken_segments(x: FloatArray, rate: int) -> list[Segment]:
    """Truth for a clean clip: its spurts (40 dB below its peak, pauses < 0.3 s bridged)."""
    hop = int(rate * TRUTH_HOP_S)
    n = len(x) // hop
    if n == 0:
        return []
    e = 10 * np.log10(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-15)
    active = np.flatnonzero(e > e.max() - TRUTH_RANGE_DB)
    segments: list[Segment] = []
    start = prev = int(active[0])
    for i in active[1:]:
        if (i - prev - 1) * TRUTH_HOP_S >= TRUTH_BRIDGE_S:
            segments.append(Segment(start * TRUTH_HOP_S, (prev + 1) * TRUTH_HOP_S))
            start = int(i)
        prev = int(i)
    segments.append(Segment(start * TRUTH_HOP_S, (prev + 1) * TRUTH_HOP_S))
    return segments


_CHORDS = (
    (130.81, 261.63, 329.63, 392.00),  # C
    (110.00, 220.00, 261.63, 329.63),  # Am
    (87.31, 174.61, 220.00, 261.63),  # F
    (98.00, 196.00, 246.94, 293.66),  # G
)


def hold_music(duration_s: float, rate: int, offset_s: float = 0.0) -> FloatArray:
    """The product's hold music idea: I-vi-IV-V chords, 3.75 s each, soft envelope."""
    chord_s = 3.75
    t = offset_s + np.arange(round(duration_s * rate)) / rate
    out = np.zeros(len(t))
    idx = (t // chord_s).astype(int) % len(_CHORDS)
    pos = t - (t // chord_s) * chord_s
    env = np.ones(len(t))
    attack, release = 0.4, 0.9
    a = pos < attack
    env[a] = 0.5 - 0.5 * np.cos(np.pi * pos[a] / attack)
    r = pos > chord_s - release
    env[r] = 0.5 + 0.5 * np.cos(np.pi * (pos[r] - (chord_s - release)) / release)
    for c, chord in enumerate(_CHORDS):
        sel = idx == c
        if not sel.any():
            continue
        tt = t[sel]
        acc = np.zeros(len(tt))
        for k, freq in enumerate(chord):
            tremolo = 1.0 + 0.08 * np.sin(2 * np.pi * (0.5 + 0.1 * k) * tt)
            phase = 2 * np.pi * freq * tt
            acc += tremolo * (np.sin(phase) + 0.15 * np.sin(2 * phase))
        out[sel] = acc
    return np.asarray(out * env * 0.22 / (4 * 1.15), dtype=np.float64)


def arpeggio_music(duration_s: float, rate: int) -> FloatArray:
    """Another hold music: plucked arpeggio notes every 0.3 s over a held bass note."""
    t = np.arange(round(duration_s * rate)) / rate
    out = np.zeros(len(t))
    note_s = 0.3
    for c, chord in enumerate(_CHORDS * math.ceil(duration_s / 4.8 + 1)):
        c0 = c * 4.8
        if c0 >= duration_s:
            break
        sel = (t >= c0) & (t < c0 + 4.8)
        out[sel] += 0.5 * np.sin(2 * np.pi * chord[0] * t[sel])
        for j in range(16):
            n0 = c0 + j * note_s
            nsel = (t >= n0) & (t < n0 + 4 * note_s)
            freq = chord[1 + j % 3] * (2 if j % 6 >= 3 else 1)
            tt = t[nsel] - n0
            out[nsel] += np.exp(-tt * 3.0) * np.sin(2 * np.pi * freq * tt)
    return np.asarray(out * 0.12, dtype=np.float64)


def tone(freq_hz: float, duration_s: float, rate: int, level: float = 0.2) -> FloatArray:
    """A steady sine (ring-back, a beep), 5 ms ramps at both ends."""
    t = np.arange(round(duration_s * rate)) / rate
    x = level * np.sin(2 * np.pi * freq_hz * t)
    ramp = min(len(x) // 2, int(0.005 * rate))
    if ramp:
        x[:ramp] *= np.linspace(0, 1, ramp)
        x[-ramp:] *= np.linspace(1, 0, ramp)
    return np.asarray(x, dtype=np.float64)


def noise(n: int, color: str, rng: np.random.Generator) -> FloatArray:
    """Unit-RMS background noise: white, pink (1/f) or brown-ish hum-free rumble."""
    white = rng.standard_normal(n)
    if color == "white":
        return white
    spec = np.fft.rfft(white)
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    shaped = np.fft.irfft(spec / (np.sqrt(f) if color == "pink" else f), n)
    return np.asarray(shaped / (np.std(shaped) + 1e-12), dtype=np.float64)


def mulaw_roundtrip(x: FloatArray) -> FloatArray:
    """G.711 μ-law companding and back: the quantisation an 8 kHz trunk adds."""
    mu = 255.0
    y = np.sign(x) * np.log1p(mu * np.abs(np.clip(x, -1, 1))) / np.log1p(mu)
    q = np.round(y * 127) / 127
    return np.asarray(np.sign(q) * ((1 + mu) ** np.abs(q) - 1) / mu, dtype=np.float64)


def to_pcm(x: FloatArray) -> npt.NDArray[np.int16]:
    """Floats to clipped 16-bit samples."""
    return np.asarray(np.clip(np.round(x * 32768), -32768, 32767), dtype=np.int16)


def db(x: float) -> float:
    return 10 ** (x / 20)


@dataclass
class Track:
    """One channel under construction: its samples and the truth laid into it."""

    rate: int
    samples: FloatArray
    speech: list[Segment] = field(default_factory=list)
    holds: list[Segment] = field(default_factory=list)

    def place(self, x: FloatArray, at_s: float) -> None:
        i = round(at_s * self.rate)
        need = i + len(x)
        if need > len(self.samples):
            self.samples = np.concatenate([self.samples, np.zeros(need - len(self.samples))])
        self.samples[i:need] += x


@dataclass(frozen=True)
class Line:
    """A transcript line with its truth: who said it, when, and the phrase."""

    side: Side
    start_s: float
    end_s: float
    phrase: Phrase


@dataclass(frozen=True)
class SynthCall:
    """A generated call: the two channels as 16-bit PCM, their rates and the truth."""

    name: str
    lang: str
    caller: npt.NDArray[np.int16]
    agent: npt.NDArray[np.int16]
    caller_rate: int
    agent_rate: int
    speech: dict[Side, tuple[Segment, ...]]
    holds: dict[Side, tuple[Segment, ...]]  # music on hold as heard in each channel
    events: tuple[CallEvent, ...]
    lines: tuple[Line, ...]
    ring_s: float
    duration_s: float

    def transcript(self, side: Side) -> list[tuple[float, float, str]]:
        """A perfect transcript of one side, as the engine takes it."""
        return [(x.start_s, x.end_s, x.phrase.text) for x in self.lines if x.side is side]


class CallBuilder:
    """Lays out a call turn by turn; every placement records its truth."""

    def __init__(
        self,
        speaker: Speaker,
        name: str,
        lang: str,
        caller_rate: int = 8000,
        agent_rate: int = 8000,
        ring_s: float = 6.0,
    ) -> None:
        self.speaker = speaker
        self.name = name
        self.lang = lang
        self.tracks = {
            Side.CALLER: Track(caller_rate, np.zeros(0)),
            Side.AGENT: Track(agent_rate, np.zeros(0)),
        }
        self.voices = {Side.CALLER: Voice(lang, "f3", 150, 60), Side.AGENT: Voice(lang, "", 165)}
        self.levels = {Side.CALLER: -24.0, Side.AGENT: -20.0}  # dBFS RMS of speech
        self.lines: list[Line] = []
        self.ring_s = ring_s
        self.holds_at: list[Segment] = []
        self.cursor = 0.0  # end of the last thing placed

    def say(self, side: Side, phrase: Phrase, at_s: float | None = None) -> Line:
        """Speak a phrase on one side at `at_s` (default: right after the cursor)."""
        track = self.tracks[side]
        clip = resample(self.speaker.say(phrase.spoken, self.voices[side]), ESPEAK_RATE, track.rate)
        spurts = spoken_segments(clip, track.rate)
        # Level the spoken part to the speaker's RMS, so SNRs mean what they say.
        hop = int(track.rate * TRUTH_HOP_S)
        body = np.concatenate(
            [
                clip[int(s.start_s / TRUTH_HOP_S) * hop : int(s.end_s / TRUTH_HOP_S) * hop]
                for s in spurts
            ]
        )
        clip = clip * db(self.levels[side]) / (np.sqrt(np.mean(body**2)) + 1e-12)
        start = self.cursor if at_s is None else at_s
        # Truth is kept from the clean clip; the clip's leading silence shifts it.
        track.place(clip, start)
        for s in spurts:
            track.speech.append(Segment(round(start + s.start_s, 3), round(start + s.end_s, 3)))
        line = Line(
            side, round(start + spurts[0].start_s, 3), round(start + spurts[-1].end_s, 3), phrase
        )
        self.lines.append(line)
        self.cursor = max(self.cursor, line.end_s)
        return line

    def pause(self, seconds: float) -> None:
        self.cursor += seconds

    def hold(self, seconds: float, side: Side = Side.AGENT, style: str = "chords") -> Segment:
        """Music on hold in one channel for `seconds`, logged as held/resumed events."""
        track = self.tracks[side]
        start = self.cursor + 0.5
        music = (
            hold_music(seconds, track.rate)
            if style == "chords"
            else arpeggio_music(seconds, track.rate)
        )
        track.place(music, start)
        seg = Segment(round(start, 3), round(start + seconds, 3))
        track.holds.append(seg)
        self.holds_at.append(seg)
        self.cursor = seg.end_s
        return seg

    def place_raw(self, side: Side, x: FloatArray, at_s: float) -> None:
        """Put a non-speech sound (a tone) on a channel; it adds no truth."""
        self.tracks[side].place(x, at_s)
        self.cursor = max(self.cursor, at_s + len(x) / self.tracks[side].rate)

    def build(
        self,
        rng: np.random.Generator,
        snr_db: dict[Side, float] | None = None,
        color: str = "white",
        noise_step_db: float = 0.0,
        tail_s: float = 1.0,
        companding: bool = True,
    ) -> SynthCall:
        """Both channels padded to one length, noise added at the given speech SNRs."""
        duration = self.cursor + tail_s
        pcm: dict[Side, npt.NDArray[np.int16]] = {}
        for side, track in self.tracks.items():
            n = round(duration * track.rate)
            x = np.zeros(n)
            x[: min(n, len(track.samples))] = track.samples[:n]
            if snr_db is not None:
                level = db(self.levels[side] - snr_db[side])
                bg = noise(n, color, rng) * level
                if noise_step_db:
                    # The caller walks into a noisier place halfway through.
                    bg[n // 2 :] *= db(noise_step_db)
                x = x + bg
            if companding and track.rate == 8000:
                x = mulaw_roundtrip(x)
            pcm[side] = to_pcm(x)
        offered = 1_700_000_000.0
        events = [CallEvent("offered", offered), CallEvent("answered", offered + self.ring_s)]
        for h in self.holds_at:
            events.append(CallEvent("held", offered + self.ring_s + h.start_s))
            events.append(CallEvent("resumed", offered + self.ring_s + h.end_s))
        events.append(CallEvent("ended", offered + self.ring_s + duration))
        return SynthCall(
            name=self.name,
            lang=self.lang,
            caller=pcm[Side.CALLER],
            agent=pcm[Side.AGENT],
            caller_rate=self.tracks[Side.CALLER].rate,
            agent_rate=self.tracks[Side.AGENT].rate,
            speech={s: tuple(sorted(t.speech)) for s, t in self.tracks.items()},
            holds={s: tuple(t.holds) for s, t in self.tracks.items()},
            events=tuple(events),
            lines=tuple(self.lines),
            ring_s=self.ring_s,
            duration_s=round(duration, 3),
        )


def frame_labels(
    segments: tuple[Segment, ...] | list[Segment], duration_s: float
) -> npt.NDArray[np.bool_]:
    """Speech per 10 ms frame (a frame counts when its centre lies in a segment)."""
    n = math.ceil(duration_s / TRUTH_HOP_S - 1e-9)
    centres = (np.arange(n) + 0.5) * TRUTH_HOP_S
    out = np.zeros(n, dtype=bool)
    for s in segments:
        out |= (centres >= s.start_s) & (centres < s.end_s)
    return out


def f1_counts(truth: npt.NDArray[np.bool_], found: npt.NDArray[np.bool_]) -> tuple[int, int, int]:
    """True positives, false positives, false negatives of two frame labellings."""
    n = min(len(truth), len(found))
    t, f = truth[:n], found[:n]
    return int(np.sum(t & f)), int(np.sum(~t & f)), int(np.sum(t & ~f))


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def random_call(speaker: Speaker, index: int, seed: int = 6) -> tuple[SynthCall, dict[str, object]]:
    """One of the benchmark's calls: its language, rates, noise, turns, holds and dead air
    drawn from `seed` and `index`; returns the call and what was built into it."""
    rng = random.Random(seed * 1000 + index)
    nrng = np.random.default_rng(seed * 1000 + index)
    lang = "en" if index % 2 == 0 else "zh"
    agent_rate = rng.choice((8000, 16000))
    ring_s = round(rng.uniform(2.0, 22.0), 2)
    b = CallBuilder(speaker, f"call{index:02d}-{lang}", lang, 8000, agent_rate, ring_s)
    b.voices[Side.AGENT] = Voice(
        lang, rng.choice(("", "m3", "f2")), rng.randint(140, 185), rng.randint(35, 60)
    )
    b.voices[Side.CALLER] = Voice(
        lang, rng.choice(("f3", "m1", "f4")), rng.randint(130, 180), rng.randint(40, 75)
    )
    b.levels[Side.CALLER] = rng.uniform(-30.0, -20.0)
    b.levels[Side.AGENT] = rng.uniform(-26.0, -18.0)
    built: dict[str, object] = {"barge_ins": 0, "dead_air": [], "holds": 0}
    b.pause(rng.uniform(0.5, 2.5))
    b.say(Side.AGENT, GREETING[lang])
    callers = CALLER_LINES[lang][:]
    agents = AGENT_LINES[lang][:]
    hold_at = rng.randint(1, 3) if rng.random() < 0.6 else -1
    dead_at = rng.randint(0, 3) if rng.random() < 0.5 else -1
    for turn in range(rng.randint(3, 5)):
        b.pause(rng.uniform(0.3, 1.2))
        last_caller = b.say(Side.CALLER, callers[turn % len(callers)])
        if rng.random() < 0.3:
            # Barge-in: the agent starts before the caller has finished.
            b.cursor = last_caller.end_s - rng.uniform(0.6, 1.4)
            built["barge_ins"] = int(str(built["barge_ins"])) + 1
        else:
            b.pause(rng.uniform(0.3, 1.0))
        if turn == dead_at:
            gap = rng.uniform(4.0, 12.0)
            b.pause(gap)
            dead = built["dead_air"]
            assert isinstance(dead, list)
            dead.append(round(gap, 2))
        b.say(Side.AGENT, agents[turn % len(agents)])
        if turn == hold_at:
            b.pause(0.4)
            b.say(Side.AGENT, HOLD_ASK[lang])
            side = Side.AGENT if rng.random() < 0.75 else Side.CALLER
            b.hold(rng.uniform(8.0, 30.0), side, rng.choice(("chords", "chords", "arpeggio")))
            built["holds"] = int(str(built["holds"])) + 1
            b.pause(rng.uniform(0.3, 1.0))
            b.say(Side.AGENT, HOLD_THANKS[lang])
    b.pause(rng.uniform(0.4, 1.0))
    b.say(Side.CALLER, callers[-1])
    b.pause(rng.uniform(0.3, 0.8))
    b.say(Side.AGENT, CLOSING[lang])
    snr = {Side.CALLER: rng.uniform(12.0, 30.0), Side.AGENT: rng.uniform(18.0, 35.0)}
    call = b.build(
        nrng,
        snr,
        color=rng.choice(("white", "pink")),
        noise_step_db=6.0 if rng.random() < 0.2 else 0.0,
        tail_s=rng.uniform(0.5, 2.0),
    )
    return call, built
