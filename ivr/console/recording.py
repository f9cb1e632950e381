"""Recordings made in the console: telephone-ready audio, tied to the exact text they speak.

A recording from the browser or an uploaded file is converted by sox (ivr.content.sound):
8 kHz mono 16-bit WAV, rumble filtered, silence trimmed, speech brought to one level. A
clipped recording is refused first: distortion cannot be undone by turning it down.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from ivr.console.editing import (
    DRAFT,
    REPLACED,
    EditError,
    check_prompt,
    fill_values,
    single_sign_off,
)
from ivr.console.i18n import _
from ivr.console.models import PromptRecording
from ivr.console.published import APPROVED, hotline_key, sha256_of
from ivr.content.audio import AudioError
from ivr.content.prompt_set import AUDIO_SUFFIXES
from ivr.content.sound import MAX_DURATION, MIN_DURATION, _run, convert
from ivr.voice.hotline import Hotline

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_SOURCE_SECONDS = 180.0  # one prompt (at most a minute) with silence around it
MAX_CHANNELS = 32  # what sox itself handles; only the first two are ever decoded
# A sample this close to full scale has been cut off by the microphone or the converter.
CLIP_LEVEL = 32_700
CLIP_RUN = 3  # samples in a row at full scale: one is a loud peak, three are a flat top
CLIPS_REFUSED = 3  # flat tops a recording may have before it is refused


class RecordingError(ValueError):
    """A recording refused; the message says why and what to do."""


@dataclass(frozen=True)
class TelephoneAudio:
    wav: bytes
    duration: float
    sha256: str


def clipped_places(path: Path, block_seconds: float = 10.0) -> int:
    """How many times a 16-bit WAV's waveform sits flat at full scale (CLIP_RUN samples or
    more in a row), read `block_seconds` at a time (never the whole file in memory).

    A run is counted at the sample where it reaches CLIP_RUN: that sample and the CLIP_RUN
    - 1 before it are flat, the one before those is not. The last CLIP_RUN flags of a block
    go in front of the next, so that a run across two blocks is counted once."""
    import numpy as np  # the console's uploads only: web processes otherwise never load it

    places = 0
    tail = np.zeros(CLIP_RUN, dtype=bool)
    with wave.open(str(path), "rb") as reader:
        if reader.getsampwidth() != 2:
            return 0
        block = max(1, int(reader.getframerate() * block_seconds))
        while data := reader.readframes(block):
            samples = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2")
            flags = np.concatenate((tail, np.abs(samples.astype(np.int32)) >= CLIP_LEVEL))
            reached = ~flags[: len(flags) - CLIP_RUN]
            for back in range(CLIP_RUN):
                reached &= flags[CLIP_RUN - back: len(flags) - back]
            places += int(np.count_nonzero(reached))
            tail = flags[-CLIP_RUN:]
    return places


@dataclass(frozen=True)
class SourceHeader:
    """What an uploaded file's header says, read by sox without decoding the sound."""

    channels: int
    rate: int
    seconds: float  # 0 where the header does not say


def read_header(source: Path) -> SourceHeader:
    """The channels, rate and length a file's header gives (sox --info), in a limited child."""
    try:
        said = {key.strip(): value.strip() for key, value in (
            line.split(":", 1) for line in
            _run(["sox", "--info", str(source)], limited=True).splitlines() if ":" in line)}
        channels = int(said["Channels"])
        rate = int(float(said["Sample Rate"]))
    except (AudioError, ValueError, KeyError) as exc:
        raise RecordingError(_("The file could not be read as sound: send WAV, FLAC, Ogg or "
                             "MP3 as recorded.")) from exc
    samples = re.search(r"= (\d+) samples", said.get("Duration", ""))
    seconds = int(samples.group(1)) / rate if samples and rate > 0 else 0.0
    return SourceHeader(channels, rate, seconds)


def telephone_audio(data: bytes, filename: str) -> TelephoneAudio:
    """Any recording sox reads -> the prompts' WAV format; RecordingError with the reason.

    An upload's length is taken from its header before a sample is decoded, and decoding
    runs in a child with memory, file-size and time limits (ivr.content.sound._run): a small
    file that claims or unpacks to hours of sound costs the web process nothing. At most
    MAX_SOURCE_SECONDS, 2 channels and 48 kHz of it are ever decoded."""
    suffix = Path(filename).suffix.lower() or ".wav"
    if suffix not in AUDIO_SUFFIXES:
        raise RecordingError(_("%(suffix)s files are not taken: send WAV, FLAC, Ogg or MP3.",
                               suffix=suffix))
    if not data:
        raise RecordingError(_("The recording is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise RecordingError(_("The file is too large (at most 20 MB)."))
    with tempfile.TemporaryDirectory(prefix="ivr-record-") as work:
        source = Path(work) / f"source{suffix}"
        source.write_bytes(data)
        header = read_header(source)
        if header.seconds > MAX_SOURCE_SECONDS:
            raise RecordingError(_("The file lasts %(minutes).0f minutes; send one prompt, at "
                                   "most %(seconds).0f s with the silence around it.",
                                   minutes=header.seconds / 60, seconds=MAX_SOURCE_SECONDS))
        if not 1 <= header.channels <= MAX_CHANNELS:
            raise RecordingError(_("The file has %(num)s channels; send a mono or stereo "
                                   "recording.", num=header.channels))
        plain = Path(work) / "plain.wav"  # 16-bit, at most 2 channels: to look for clipping
        target = Path(work) / "prompt.wav"
        # The first two channels of a multi-channel file; a very high rate halved; whatever
        # the header said, never more than MAX_SOURCE_SECONDS decoded.
        shape = (["remix", "1", "2"] if header.channels > 2 else []) + \
            (["rate", "48k"] if header.rate > 48_000 else [])
        try:
            _run(["sox", "-V1", str(source), "-b", "16", "-e", "signed-integer", str(plain),
                  *shape, "trim", "0", f"{MAX_SOURCE_SECONDS:g}"], limited=True)
            clips = clipped_places(plain)
            if clips >= CLIPS_REFUSED:
                raise RecordingError(_(
                    "The recording is clipped: the sound was too loud in %(num)s places and "
                    "is distorted. Hold the microphone further away or speak a little more "
                    "softly, then record again.", num=clips))
            info = convert(plain, target, limited=True)
        except AudioError as exc:
            message = str(exc)
            if "nothing but silence" in message:
                raise RecordingError(_("Nothing was heard: check that the microphone is on and "
                                     "record again.")) from exc
            raise RecordingError(_("The file could not be read as sound (%(why)s).",
                                   why=message)) from exc
        if not MIN_DURATION <= info.duration <= MAX_DURATION:
            raise RecordingError(_("After trimming the silence the recording lasts %(seconds).1f "
                                   "s; a prompt lasts %(least)g to %(most)g s.",
                                   seconds=info.duration, least=MIN_DURATION,
                                   most=MAX_DURATION))
        wav = target.read_bytes()
    return TelephoneAudio(wav, round(info.duration, 2), hashlib.sha256(wav).hexdigest())


def text_to_read(hotline: Hotline, lang: str, prompt_id: str) -> str | None:
    """The exact text a recording of a prompt must speak now (placeholders filled), or None
    where the language has no text of its own for it yet."""
    text, used = hotline.prompter.text(lang, prompt_id, fill_values(hotline, lang, prompt_id))
    return text if used == lang else None


def save_recording(session: Session, hotline: Hotline, author: str, lang: str, prompt_id: str,
                   audio: TelephoneAudio, how: str, text: str | None = None,
                   note: str | None = None) -> PromptRecording:
    """Store a recording as a draft of its prompt, for another operator to approve (callers
    hear nothing new yet); it speaks `text` (default: the text callers get now)."""
    try:
        check_prompt(hotline, lang, prompt_id)
    except EditError as exc:
        raise RecordingError(str(exc)) from exc
    spoken = text if text is not None else text_to_read(hotline, lang, prompt_id)
    if not spoken:
        raise RecordingError(_("This prompt has no text in this language yet: translate it first."))
    for older in session.scalars(_takes(hotline, lang, prompt_id).where(
            PromptRecording.state == DRAFT)):
        older.state = REPLACED  # one draft at a time: the newest
    row = PromptRecording(hotline=hotline_key(hotline.profile), lang=lang, prompt_id=prompt_id,
                          text=spoken, text_sha256=sha256_of(spoken),
                          audio_sha256=audio.sha256, wav=audio.wav, duration=audio.duration,
                          how=how, author=author, active=False, state=DRAFT, note=note)
    session.add(row)
    session.flush()
    return row


def _takes(hotline: Hotline, lang: str, prompt_id: str):  # type: ignore[no-untyped-def]
    return select(PromptRecording).where(
        PromptRecording.hotline == hotline_key(hotline.profile), PromptRecording.lang == lang,
        PromptRecording.prompt_id == prompt_id)


def approve_recording(session: Session, hotline: Hotline, approver: str,
                      recording_id: int) -> PromptRecording:
    """A draft take goes live (callers hear it after the next refresh), if a second person
    approves it, it still speaks the text callers get, and it decodes; otherwise the live
    one stays and the reason is given."""
    row = session.get(PromptRecording, recording_id)
    if row is None or row.hotline != hotline_key(hotline.profile) or row.state != DRAFT:
        raise RecordingError(_("There is no such take waiting for approval."))
    if row.author == approver and not single_sign_off(hotline.profile):
        raise RecordingError(_("Another operator must approve your take: this hotline's "
                             "profile asks for two people on everything callers hear."))
    if text_to_read(hotline, row.lang, row.prompt_id) != row.text:
        raise RecordingError(_("The text changed after this take: record it again."))
    why = decode_problem(row.wav, row.audio_sha256)
    if why:
        raise RecordingError(why)
    for older in session.scalars(_takes(hotline, row.lang, row.prompt_id).where(
            PromptRecording.active.is_(True))):
        older.active, older.state = False, REPLACED
    row.active, row.state = True, APPROVED
    row.approved_by, row.approved_at = approver, datetime.now(UTC)
    session.flush()
    return row


def decode_problem(wav_bytes: bytes, audio_sha256: str) -> str | None:
    """Why stored audio cannot be played to callers (None when it can): it is the bytes it
    was made as, and a telephone WAV (8 kHz mono 16-bit) of a prompt's length."""
    if hashlib.sha256(wav_bytes).hexdigest() != audio_sha256:
        return "The stored take is not the one that was recorded: record it again."
    try:
        with wave.open(io.BytesIO(wav_bytes), "rb") as reader:
            shape = (reader.getnchannels(), reader.getsampwidth(), reader.getframerate())
            seconds = reader.getnframes() / reader.getframerate()
    except (wave.Error, EOFError, ZeroDivisionError) as exc:
        return f"The take does not decode as a WAV file ({exc}): record it again."
    if shape != (1, 2, 8000) or not MIN_DURATION <= seconds <= MAX_DURATION + 1:
        return "The take is not telephone audio of a prompt's length: record it again."
    return None


def restore_recording(session: Session, hotline: Hotline, author: str,
                      recording_id: int) -> PromptRecording:
    """An earlier take, saved again as a draft to approve (if it speaks the current text)."""
    row = session.get(PromptRecording, recording_id)
    if row is None or row.hotline != hotline_key(hotline.profile):
        raise RecordingError(_("There is no such take."))
    if text_to_read(hotline, row.lang, row.prompt_id) != row.text:
        raise RecordingError(_("That take speaks an older text: record the current one."))
    audio = TelephoneAudio(row.wav, row.duration, row.audio_sha256)
    when = row.created_at.strftime("%Y-%m-%d %H:%M")
    return save_recording(session, hotline, author, row.lang, row.prompt_id, audio, row.how,
                          row.text, note=f"restores {row.author}'s take of {when}")


def draft_take(session: Session, hotline: Hotline, lang: str,
               prompt_id: str) -> PromptRecording | None:
    """The take waiting for approval, if any."""
    return session.scalar(_takes(hotline, lang, prompt_id).options(defer(PromptRecording.wav))
                          .where(PromptRecording.state == DRAFT)
                          .order_by(PromptRecording.id.desc()))


def recordings_of(session: Session, hotline: Hotline, lang: str,
                  prompt_id: str) -> list[PromptRecording]:
    """A prompt's recordings, newest first, without their audio loaded."""
    return list(session.scalars(select(PromptRecording).options(defer(PromptRecording.wav))
                                .where(PromptRecording.hotline == hotline_key(hotline.profile),
                                       PromptRecording.lang == lang,
                                       PromptRecording.prompt_id == prompt_id)
                                .order_by(PromptRecording.id.desc())))
