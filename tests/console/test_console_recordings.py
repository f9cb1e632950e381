"""Recordings made in the console: telephone-ready audio, refused clipping, stale, served."""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr.console.editing import approve, save_draft
from ivr.console.progress import language_progress, spoken_prompts
from ivr.console.recording import (
    RecordingError,
    approve_recording,
    save_recording,
    telephone_audio,
    text_to_read,
)
from ivr.console.store import engine, session_scope
from ivr.content.audio import text_hash
from ivr.voice.hotline import Hotline
from ivr.voice.state import CallState
from tests.conftest import PUBLIC_BASE_URL
from tests.console.conftest import (
    OPERATOR,
    OTHER,
    OTHER_PASSWORD,
    console_post,
    record_live,
    sign_in,
)

UK_TALK_FILLED = "INFOTRAITE — щоб поговорити зараз, натисніть 1."
UK_CORRECTED = "Щоб поговорити з %(hotline)s просто зараз, натисніть %(key)s."


def speech_like(rate: int = 44_100, channels: int = 2, seconds: float = 1.5,
                amplitude: float = 0.25, silence: float = 0.5) -> bytes:
    """A WAV file: silence, a warbling tone at `amplitude` of full scale, silence."""
    frames = []
    quiet = int(rate * silence)
    for i in range(quiet * 2 + int(rate * seconds)):
        if quiet <= i < quiet + int(rate * seconds):
            t = i / rate
            value = amplitude * math.sin(2 * math.pi * (300 + 80 * math.sin(7 * t)) * t)
        else:
            value = 0.0
        sample = max(-32768, min(32767, int(value * 32767)))
        frames.append(struct.pack("<h", sample) * channels)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"".join(frames))
    return out.getvalue()


def hotline_of(app: Flask) -> Hotline:
    return app.extensions["hotline"]


def test_a_recording_becomes_8_khz_mono_with_the_silence_trimmed() -> None:
    audio = telephone_audio(speech_like(), "take.wav")
    with wave.open(io.BytesIO(audio.wav), "rb") as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (
            8000, 1, 2)
        seconds = reader.getnframes() / 8000
    # 1.5 s of sound (its faint edges trimmed too), 0.05 s and 0.25 s of silence put back
    # at the ends: untrimmed it would be 2.8 s.
    assert seconds == pytest.approx(1.75, abs=0.06)
    assert audio.duration == pytest.approx(1.74, abs=0.01)


def test_clipping_is_refused_with_the_reason() -> None:
    with pytest.raises(RecordingError, match="clipped: the sound was too loud"):
        telephone_audio(speech_like(amplitude=3.0), "loud.wav")


def test_silence_and_other_files_are_refused() -> None:
    with pytest.raises(RecordingError, match="Nothing was heard"):
        telephone_audio(speech_like(amplitude=0.0), "silent.wav")
    with pytest.raises(RecordingError, match=r"\.txt files are not taken"):
        telephone_audio(b"hello", "notes.txt")
    with pytest.raises(RecordingError, match="could not be read as sound"):
        telephone_audio(b"RIFF not a wav at all", "broken.wav")


def test_a_recording_is_heard_served_and_goes_stale_when_the_text_changes(
        console_app: Flask, console: FlaskClient) -> None:
    h = hotline_of(console_app)
    assert text_to_read(h, "uk", "main.talk") == UK_TALK_FILLED
    audio = telephone_audio(speech_like(), "take.wav")
    with console_app.app_context(), session_scope() as db:
        row = record_live(db, h, "uk", "main.talk", audio, "upload")
        assert row.text_sha256 == text_hash(UK_TALK_FILLED)
    with console_app.app_context():
        console_app.extensions["published"].refresh(engine())
    said = h.prompter.utterance("uk", "main.talk", key="1")
    assert said.audio_url == f"/prompts/uk/main.talk.wav?v={audio.sha256[:12]}"
    assert f"<Play>{PUBLIC_BASE_URL}/prompts/uk/main.talk.wav?v={audio.sha256[:12]}</Play>" in \
        h.engine.menu(CallState(lang="uk", node="main")).twiml
    served = console.get("/prompts/uk/main.talk.wav")
    assert served.status_code == 200 and served.data == audio.wav
    assert served.mimetype == "audio/wav"
    # The text changes: the recording no longer matches it and is never played.
    with console_app.app_context(), session_scope() as db:
        approve(db, h, OTHER, save_draft(db, h, OPERATOR, "uk", "main.talk", UK_CORRECTED).id)
    with console_app.app_context():
        console_app.extensions["published"].refresh(engine())
    said = h.prompter.utterance("uk", "main.talk", key="1")
    assert said.audio_url is None and said.say_voice == "Google.uk-UA-Standard-A"
    with console_app.app_context(), session_scope() as db:
        progress = language_progress(h, "uk", {})
    talk = next(p for p in progress.prompts if p.prompt_id == "main.talk")
    assert (talk.heard, talk.recording, talk.approved) == ("Twilio voice", "stale", True)


def test_upload_through_the_page(console_app: Flask, console: FlaskClient) -> None:
    page = "/console/prompts/lb/main.talk"
    sent = console_post(console, page, page + "/recording",
                        {"audio": (io.BytesIO(speech_like()), "take.wav"), "how": "upload"},
                        content_type="multipart/form-data")
    assert sent.status_code == 302
    shown = console.get(page).get_data(as_text=True)
    assert "Main menu: talk to someone (main.talk) in Luxembourgish: take saved (1.7 s). " \
        "Another operator approves it; callers hear " \
        "it then." in shown
    assert "Another operator listens to it and approves it." in shown  # not the author
    take = int(shown.split('name="take" value="')[1].split('"')[0]) if 'name="take"' in shown \
        else None
    assert take is None  # no approve button for its author
    served_before = console.get("/prompts/lb/main.talk.wav")
    before = served_before.data
    served_before.close()
    other = console_app.test_client()
    sign_in(other, OTHER, OTHER_PASSWORD)
    approving = other.get(page).get_data(as_text=True)
    assert "Approve this take and publish it" in approving
    take = int(approving.split('name="take" value="')[1].split('"')[0])
    approved = console_post(other, page, page + "/recording/approve", {"take": str(take)})
    assert approved.status_code == 302
    shown = other.get(page).get_data(as_text=True)
    assert ("Main menu: talk to someone (main.talk) in Luxembourgish: take approved. "
            "Callers hear it within a minute.") in shown
    assert "Current recording" in shown
    assert console.get("/prompts/lb/main.talk.wav").data != before
    loud = console_post(console, page, page + "/recording",
                        {"audio": (io.BytesIO(speech_like(amplitude=3.0)), "loud.wav")},
                        content_type="multipart/form-data")
    assert loud.status_code == 302
    assert "Recording refused: The recording is clipped" in console.get(page).get_data(
        as_text=True)
    served = console.get("/prompts/lb/main.talk.wav")
    assert served.status_code == 200 and served.data[:4] == b"RIFF"


def test_the_overview_counts_each_language(console_app: Flask, console: FlaskClient) -> None:
    page = console.get("/console/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Ukrainian" in body and "Luxembourgish" in body
    prompts = spoken_prompts(hotline_of(console_app).profile)
    ids = [use.prompt_id for use in prompts]
    assert "main.talk" in ids and "sms.sent" in ids
    assert "sms.help" not in ids and "whisper" not in ids and "fallback.sorry" not in ids
    listing = console.get("/console/prompts/lb").get_data(as_text=True)
    assert "main.talk" in listing and "To record" in listing


def test_the_progress_table_per_language(console_app: Flask, tmp_path: Path) -> None:
    h = hotline_of(console_app)
    with console_app.app_context(), session_scope() as db:
        record_live(db, h, "uk", "main.talk", telephone_audio(speech_like(),
                                                                          "take.wav"), "upload")
    with console_app.app_context():
        console_app.extensions["published"].refresh(engine())
    progress = language_progress(h, "uk", {})
    talk = next(p for p in progress.prompts if p.prompt_id == "main.talk")
    assert (talk.heard, talk.recording) == ("recording", "current")
    assert progress.count(recording="current") == 1


def test_a_take_just_approved_is_served_by_a_worker_whose_snapshot_lags(
        console_app: Flask, make_app: Callable[..., Flask]) -> None:
    """Issue #22: right after publishing, another worker answered 404 for the URL the
    caller was told to play. Now it reads that take from the database by its hash."""
    lagging = make_app(DATABASE_URL=console_app.config["DATABASE_URL"])  # another worker
    lagging.extensions["published"].refresh(lagging.extensions["events"].engine)
    h = hotline_of(console_app)
    with console_app.app_context(), session_scope() as db:
        take = save_recording(db, h, OPERATOR, "uk", "main.talk",
                              telephone_audio(speech_like(), "take.wav"), "upload")
        draft_hash = take.audio_sha256
    # A draft is never served, whatever URL names it.
    draft_url = f"/prompts/uk/main.talk.wav?v={draft_hash[:12]}"
    served = lagging.test_client().get(draft_url)
    assert served.status_code == 404 or served.data != take.wav
    served.close()
    with console_app.app_context(), session_scope() as db:
        approved = approve_recording(db, h, OTHER, take.id)
        wav = approved.wav
    published_of = console_app.extensions["published"]
    published_of.refresh(console_app.extensions["events"].engine)  # the approving worker
    url = h.prompter.utterance("uk", "main.talk", key="1", hotline="INFOTRAITE").audio_url
    assert url and url.endswith(f"?v={draft_hash[:12]}")
    served = lagging.test_client().get(url)  # its snapshot has not been refreshed
    assert served.status_code == 200 and served.data == wav
    served.close()
