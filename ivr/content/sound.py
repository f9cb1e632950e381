"""Telephone-ready sound: reading WAV files, making them with sox and espeak-ng, checking them."""

from __future__ import annotations

import hashlib
import math
import operator
import shutil
import subprocess
import sys
import tempfile
import wave
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.content.audio import SOURCES, AudioError, AudioFile, text_hash
from ivr.content.number_words import spelled_out

if TYPE_CHECKING:
    pass



# The format every prompt file has (and `ivr prompts check` demands).
SAMPLE_RATE = 8000
CHANNELS = 1
SAMPLE_WIDTH = 2  # bytes: 16-bit PCM

# Silence: a 10 ms window whose peak stays under 1 % of full scale (-40 dBFS).
SILENCE_WINDOW = 0.01
SILENCE_LEVEL = 0.01
# Files are trimmed, then padded with this much silence: a breath between two prompts
# that Twilio plays back to back, short enough not to feel like a dead line.
LEAD_PAD = 0.05
TAIL_PAD = 0.25
MAX_LEADING_SILENCE = 0.3
MAX_TRAILING_SILENCE = 0.6
MIN_DURATION = 0.3
MAX_DURATION = 60.0
# Loudness: the level of the speech itself (windows above -45 dBFS), like ITU-T P.56's
# active speech level, brought to -22 dBFS without letting a peak pass -1 dBFS.
ACTIVE_WINDOW_DB = -45.0
TARGET_LEVEL_DB = -22.0
PEAK_CEILING_DB = -1.0
LEVEL_TOLERANCE_DB = 6.0
DURATION_TOLERANCE = 0.05

# espeak-ng voice names where they differ from the profile's language code.
ESPEAK_VOICES = {"zh": "cmn", "en": "en-gb", "fr": "fr-fr", "pt": "pt"}
# Words per minute for placeholders: calmer than espeak-ng's default 175, as a
# frightened caller on a bad line needs.
ESPEAK_SPEED = 150

# --- reading WAV files -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WavInfo:
    channels: int
    sample_width: int
    frame_rate: int
    frames: int
    leading_silence: float
    trailing_silence: float
    peak_db: float
    active_level_db: float  # RMS of the windows louder than ACTIVE_WINDOW_DB

    @property
    def duration(self) -> float:
        return self.frames / self.frame_rate if self.frame_rate else 0.0

    @property
    def telephone_format(self) -> bool:
        return (self.channels, self.sample_width, self.frame_rate) == (
            CHANNELS, SAMPLE_WIDTH, SAMPLE_RATE)


def _db(amplitude: float) -> float:
    return 20 * math.log10(amplitude) if amplitude > 0 else -math.inf


def inspect_wav(path: Path) -> WavInfo:
    """Format, silence at both ends and levels of a PCM WAV file; AudioError if unreadable."""
    try:
        with wave.open(str(path), "rb") as reader:
            channels, width, rate, frames = (reader.getnchannels(), reader.getsampwidth(),
                                             reader.getframerate(), reader.getnframes())
            data = reader.readframes(frames)
    except (wave.Error, EOFError, OSError) as exc:
        raise AudioError(f"not a plain PCM WAV file ({exc}): must be {SAMPLE_RATE} Hz mono "
                         f"{SAMPLE_WIDTH * 8}-bit PCM") from exc
    if width != 2:  # levels are measured on 16-bit files only; the format check flags others
        return WavInfo(channels, width, rate, frames, 0.0, 0.0, -math.inf, -math.inf)
    samples = array("h")
    samples.frombytes(data[: len(data) - len(data) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if channels > 1:
        samples = samples[::channels]  # the first channel is enough to judge silence
    window = max(int(rate * SILENCE_WINDOW), 1)
    threshold = SILENCE_LEVEL * 32768
    active_floor = 32768 * 10 ** (ACTIVE_WINDOW_DB / 20)
    loud: list[bool] = []
    active_energy, active_count, peak = 0, 0, 0
    for start in range(0, len(samples), window):
        chunk = samples[start:start + window]
        top = max(max(chunk), -min(chunk))
        peak = max(peak, top)
        loud.append(top > threshold)
        energy = sum(map(operator.mul, chunk, chunk))
        if math.sqrt(energy / len(chunk)) > active_floor:
            active_energy += energy
            active_count += len(chunk)
    seconds = window / rate
    if not any(loud):
        lead = trail = len(samples) / rate
    else:
        lead = loud.index(True) * seconds
        trail = min(loud[::-1].index(True) * seconds, len(samples) / rate)
    level = _db(math.sqrt(active_energy / active_count) / 32768) if active_count else -math.inf
    return WavInfo(channels, width, rate, frames, lead, trail, _db(peak / 32768), level)


# --- making files: sox and espeak-ng ------------------------------------------------------


# A tool working on a file someone uploaded runs in a child with these limits (prlimit):
# whatever the file claims or holds, it cannot take the machine's memory, disk or time.
CHILD_MEMORY_BYTES = 512 * 1024 * 1024
CHILD_FILE_BYTES = 200 * 1024 * 1024
CHILD_SECONDS = 10


def _run(command: list[str], limited: bool = False) -> str:
    """Run a tool with list arguments; its output, or its error output as an AudioError.

    `limited`: within CHILD_MEMORY_BYTES of memory, CHILD_FILE_BYTES per file written and
    CHILD_SECONDS of time (for files from outside)."""
    if shutil.which(command[0]) is None:
        raise AudioError(f"{command[0]} is not installed (Debian: apt-get install {command[0]})")
    if limited and shutil.which("prlimit"):
        command = ["prlimit", f"--as={CHILD_MEMORY_BYTES}", f"--fsize={CHILD_FILE_BYTES}",
                   f"--cpu={CHILD_SECONDS}", "--", *command]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                timeout=CHILD_SECONDS if limited else None)
    except subprocess.TimeoutExpired as exc:
        raise AudioError(f"{command[0]} took more than {CHILD_SECONDS} s") from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        tool = command[command.index("--") + 1] if "--" in command else command[0]
        raise AudioError(f"{tool} failed: {detail[-1] if detail else result.returncode}")
    return result.stdout


def convert(source: Path, target: Path, silence_level: float = SILENCE_LEVEL, *,
            limited: bool = False) -> WavInfo:
    """Any format sox reads -> 8 kHz mono 16-bit PCM WAV, silence trimmed, level normalized.

    Two passes: the first mixes to mono, removes rumble under 60 Hz, trims leading and
    trailing silence and resamples; the second applies the gain that brings the speech to
    TARGET_LEVEL_DB (peaks capped) and pads a short, even silence at both ends.
    """
    percent = f"{silence_level * 100:g}%"
    fmt = ["-b", "16", "-e", "signed-integer", "-c", str(CHANNELS), "-r", str(SAMPLE_RATE)]
    with tempfile.TemporaryDirectory(prefix="ivr-audio-") as work:
        trimmed = Path(work) / "trimmed.wav"
        _run(["sox", "-V1", str(source), *fmt, str(trimmed), "remix", "-", "highpass", "60",
              "silence", "1", "0.02", percent, "reverse", "silence", "1", "0.02", percent,
              "reverse"], limited)
        measured = inspect_wav(trimmed)
        if measured.frames == 0 or measured.active_level_db == -math.inf:
            raise AudioError(f"{source.name}: nothing but silence")
        gain = min(TARGET_LEVEL_DB - measured.active_level_db,
                   PEAK_CEILING_DB - measured.peak_db)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.stem + ".partial.wav")
        _run(["sox", "-V1", str(trimmed), *fmt, str(partial), "gain", f"{gain:.2f}",
              "pad", str(LEAD_PAD), str(TAIL_PAD)], limited)
        partial.replace(target)
    return inspect_wav(target)


def espeak_voice(lang: str) -> str:
    return ESPEAK_VOICES.get(lang, lang)


def synthesis_text(text: str, lang: str) -> str:
    """What espeak-ng is given for a prompt's text: numbers, times and ranges as words where
    its voice misreads digits (lb drops the tens: ivr/content/number_words.py)."""
    return spelled_out(text, lang)


def synthesize(text: str, lang: str, target: Path, speed: int = ESPEAK_SPEED) -> WavInfo:
    """A placeholder file speaking `text` with espeak-ng, in the prompts' format."""
    with tempfile.TemporaryDirectory(prefix="ivr-synth-") as work:
        text_file = Path(work) / "text.txt"
        # A file: no text is read as an option.
        text_file.write_text(synthesis_text(text, lang), encoding="utf-8")
        raw = Path(work) / "raw.wav"
        _run(["espeak-ng", "-v", espeak_voice(lang), "-s", str(speed), "-w", str(raw),
              "-f", str(text_file)])
        return convert(raw, target)


def espeak_seconds(texts: list[str], lang: str, speed: int = ESPEAK_SPEED) -> list[float]:
    """How long espeak-ng takes to say each text, silence at both ends left out."""
    durations = []
    with tempfile.TemporaryDirectory(prefix="ivr-rate-") as work:
        for i, text in enumerate(texts):
            text_file, raw = Path(work) / f"{i}.txt", Path(work) / f"{i}.wav"
            text_file.write_text(synthesis_text(text, lang), encoding="utf-8")
            _run(["espeak-ng", "-v", espeak_voice(lang), "-s", str(speed), "-w", str(raw),
                  "-f", str(text_file)])
            info = inspect_wav(raw)
            durations.append(max(info.duration - info.leading_silence - info.trailing_silence,
                                 0.0))
    return durations


# --- checking the library ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def check_file(audio: AudioFile) -> Iterator[Problem]:
    """Format, duration, silence and level of one manifest entry's file."""
    where = audio.path.name if not audio.path.parent.name else (
        f"{audio.path.parent.name}/{audio.path.name}")
    if audio.source not in SOURCES:
        yield Problem(where, f"source {audio.source!r} is neither recorded nor synthesized")
    if audio.text and text_hash(audio.text) != audio.sha256:
        yield Problem(where, "the manifest's text does not match its sha256")
    if not audio.path.is_file():
        yield Problem(where, "listed in the manifest, but the file is missing")
        return
    try:
        info = inspect_wav(audio.path)
    except AudioError as exc:
        yield Problem(where, str(exc))
        return
    if not info.telephone_format:
        yield Problem(where, f"{info.frame_rate} Hz, {info.channels} channel(s), "
                             f"{info.sample_width * 8}-bit: must be 8000 Hz mono 16-bit PCM")
        return
    if not MIN_DURATION <= info.duration <= MAX_DURATION:
        yield Problem(where, f"{info.duration:.2f} s long (allowed {MIN_DURATION}-{MAX_DURATION})")
    if abs(info.duration - audio.duration) > DURATION_TOLERANCE:
        yield Problem(where, f"the manifest says {audio.duration:.2f} s, the file is "
                             f"{info.duration:.2f} s")
    if info.leading_silence > MAX_LEADING_SILENCE:
        yield Problem(where, f"{info.leading_silence:.2f} s of silence before speech "
                             f"(at most {MAX_LEADING_SILENCE})")
    if info.trailing_silence > MAX_TRAILING_SILENCE:
        yield Problem(where, f"{info.trailing_silence:.2f} s of silence after speech "
                             f"(at most {MAX_TRAILING_SILENCE})")
    if info.peak_db >= -0.1:
        yield Problem(where, "clipped: peaks reach full scale")
    if abs(info.active_level_db - TARGET_LEVEL_DB) > LEVEL_TOLERANCE_DB:
        yield Problem(where, f"speech level {info.active_level_db:.1f} dBFS, "
                             f"expected {TARGET_LEVEL_DB:g} ± {LEVEL_TOLERANCE_DB:g}")


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def with_duration(audio: AudioFile, info: WavInfo) -> AudioFile:
    return replace(audio, duration=round(info.duration, 2))
