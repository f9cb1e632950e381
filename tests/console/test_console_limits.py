"""Limits that hold: bodies, uploads that unpack to hours of sound, PINs with the store down."""

from __future__ import annotations

import io
import subprocess
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr.console.recording import RecordingError, telephone_audio
from ivr.security import CONSOLE_BODY_LIMIT, WEBHOOK_BODY_LIMIT, FailureLimit
from tests.conftest import twilio_post
from tests.console.conftest import console_post
from tests.console.test_console_recordings import speech_like

DEAD_REDIS = "redis://127.0.0.1:9/0"  # nothing listens on the discard port


# --- bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "limit"), [("/voice", WEBHOOK_BODY_LIMIT),
                                             ("/sms", WEBHOOK_BODY_LIMIT),
                                             ("/voice/ring/status", WEBHOOK_BODY_LIMIT),
                                             ("/console/login", CONSOLE_BODY_LIMIT)])
def test_a_body_over_its_path_limit_is_refused_413_unread(console_app: Flask, path: str,
                                                          limit: int) -> None:
    read: list[int] = []

    class Counting(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            read.append(len(chunk))
            return chunk

    body = Counting(b"x" * (limit + 1))
    response = console_app.test_client().post(
        path, input_stream=body, content_length=limit + 1,
        content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response.headers["Connection"] == "close"
    assert sum(read) == 0  # not a byte read, so nothing spooled to disk


def test_a_webhook_just_under_the_limit_is_answered(app: Flask) -> None:
    filler = "x" * (WEBHOOK_BODY_LIMIT - 2000)
    response = twilio_post(app.test_client(), "/voice", {"Filler": filler})
    assert response.status_code == 200


# --- uploads ---------------------------------------------------------------------------------


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("uploads")
    made = {}
    made["45 minutes of stereo FLAC"] = folder / "long.flac"
    # Silence, undithered: FLAC keeps 45 minutes of it in under a hundred kilobytes (at
    # 8 kHz, made in 2 s rather than 13 s at 44.1 kHz; the length is what is refused).
    sox("-D", "-n", "-r", "8000", "-c", "2", "-b", "16",
        str(made["45 minutes of stereo FLAC"]), "trim", "0", "2700")
    # The same file with its STREAMINFO's total-samples field zeroed: "length unknown".
    data = bytearray(made["45 minutes of stereo FLAC"].read_bytes())
    assert data[:4] == b"fLaC"
    field = int.from_bytes(data[18:26], "big") & ~((1 << 36) - 1)
    data[18:26] = field.to_bytes(8, "big")
    made["45 minutes, length not in the header"] = folder / "unknown.flac"
    made["45 minutes, length not in the header"].write_bytes(bytes(data))
    made["8 channels"] = folder / "eight.wav"
    (folder / "speech.wav").write_bytes(speech_like())
    # At 8 kHz: a small upload (a larger one is spooled by the test client, not the app).
    sox(str(folder / "speech.wav"), "-c", "8", "-r", "8000", str(made["8 channels"]))
    made["192 kHz"] = folder / "high.wav"
    sox(str(folder / "speech.wav"), "-r", "192000", str(made["192 kHz"]))
    made["not sound"] = folder / "noise.wav"
    made["not sound"].write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt junk" * 50)
    return made


def decode(path: Path) -> tuple[str, float, int]:
    """(what came of it, seconds taken, bytes of Python memory at the peak)."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        audio = telephone_audio(path.read_bytes(), path.name)
        outcome = f"accepted, {audio.duration} s"
    except RecordingError as exc:
        outcome = f"refused: {exc}"
    seconds = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return outcome, seconds, peak


def test_a_small_file_that_claims_45_minutes_is_refused_before_decoding(
        files: dict[str, Path]) -> None:
    path = files["45 minutes of stereo FLAC"]
    assert path.stat().st_size < 1_000_000
    outcome, seconds, peak = decode(path)
    assert outcome == ("refused: The file lasts 45 minutes; send one prompt, at most 180 s "
                       "with the silence around it.")
    assert seconds < 2 and peak < 10 * 2**20


def test_a_file_that_hides_its_length_is_decoded_no_further_than_a_prompt_can_be(
        files: dict[str, Path]) -> None:
    outcome, seconds, peak = decode(files["45 minutes, length not in the header"])
    assert outcome.startswith("refused: ")  # 180 s of silence
    assert seconds < 10 and peak < 100 * 2**20


@pytest.mark.parametrize("name", ["8 channels", "192 kHz"])
def test_any_channel_count_or_rate_sox_reads_is_taken(files: dict[str, Path],
                                                      name: str) -> None:
    outcome, _, peak = decode(files[name])
    assert outcome.startswith("accepted, 1."), outcome
    assert peak < 100 * 2**20


def test_a_file_that_is_not_sound_is_refused_with_a_reason(files: dict[str, Path]) -> None:
    outcome, _, _ = decode(files["not sound"])
    assert outcome == ("refused: The file could not be read as sound: send WAV, FLAC, Ogg or "
                       "MP3 as recorded.")


def test_an_eight_channel_upload_through_the_page_is_not_a_500(
        console_app: Flask, console: FlaskClient, files: dict[str, Path]) -> None:
    page = "/console/prompts/lb/main.talk"
    sent = console_post(console, page, page + "/recording",
                        {"audio": (io.BytesIO(files["8 channels"].read_bytes()), "take.wav"),
                         "how": "upload"}, content_type="multipart/form-data")
    assert sent.status_code == 302


# --- PINs and sign-in with the limit store down ------------------------------------------


def test_a_pin_limit_fails_closed_while_its_store_is_down(
        caplog: pytest.LogCaptureFixture) -> None:
    """Issue #22: with Redis down, 22 wrong recording PINs were not counted, and the right
    one then got in. Now no PIN is tried while attempts cannot be counted."""
    closed = FailureLimit("recording-pin", "20 per hour", DEAD_REDIS, fail_closed=True)
    assert not closed.may_try("key")
    assert "recording-pin limit not checked (ConnectionError): refused meanwhile" in caplog.text
    assert FailureLimit("sign-in", "20 per hour", DEAD_REDIS).may_try("key")


def test_the_recording_line_takes_no_pin_while_the_store_is_down(
        make_app: Callable[..., Flask]) -> None:
    from ivr.voice.simulate import parse_twiml
    from tests.console.test_console_phone_line import PIN

    def pin_with(store: str) -> str:
        app = make_app(STAFF_RECORDING_PIN=PIN, RATELIMIT_STORAGE_URI=store)
        client = app.test_client()
        asked = parse_twiml(twilio_post(client, "/voice/staff").get_data(as_text=True))
        assert asked.gather_action
        answer = twilio_post(client, asked.gather_action, {"Digits": PIN})
        assert answer.status_code == 200
        return answer.get_data(as_text=True)

    assert "Enter the number of the language" in pin_with("memory://")  # the right PIN
    said = pin_with(DEAD_REDIS)
    assert "Enter the number of the language" not in said  # not let in
    assert "That PIN is not right." in said


def test_sign_in_with_the_store_down_says_try_again_shortly(
        make_app: Callable[..., Flask]) -> None:
    from ivr.console.accounts import add_operator
    from ivr.console.store import session_scope
    from tests.console.conftest import sign_in

    app = make_app(RATELIMIT_STORAGE_URI=DEAD_REDIS)
    with app.app_context(), session_scope() as db:
        add_operator(db, "ana", "a long enough passphrase")
    answer = sign_in(app.test_client(), "ana", "a long enough passphrase")
    assert answer.status_code == 503
    assert "Sign-in attempts cannot be counted just now" in answer.get_data(as_text=True)


def test_clipping_is_counted_the_same_whatever_the_blocks_it_is_read_in(
        tmp_path: Path) -> None:
    """Runs of flat samples across block boundaries are counted once (checked against a
    sample-by-sample count on random waveforms)."""
    import random
    import struct
    import wave

    from ivr.console.recording import CLIP_LEVEL, CLIP_RUN, clipped_places

    def by_hand(samples: list[int]) -> int:
        places = run = 0
        for sample in samples:
            run = run + 1 if abs(sample) >= CLIP_LEVEL else 0
            places += run == CLIP_RUN
        return places

    chance = random.Random(22)
    for trial in range(200):
        samples = [chance.choice([0, 99, 32767, -32768, CLIP_LEVEL, -CLIP_LEVEL,
                                  CLIP_LEVEL - 1]) for _ in range(chance.randint(1, 200))]
        path = tmp_path / f"{trial}.wav"
        with wave.open(str(path), "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(10)
            writer.writeframes(b"".join(struct.pack("<h", s) for s in samples))
        for seconds in (0.1, 0.3, 0.7, 10.0):
            assert clipped_places(path, seconds) == by_hand(samples), (samples, seconds)
