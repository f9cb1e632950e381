"""The staff recording line: record prompts by phone, the best match for telephone audio.

Two ways in, both with the PIN (STAFF_RECORDING_PIN): a separate staff number whose "A call
comes in" points at /voice/staff, or the hotline's own number called from one of the
helpline's phones (the voice channel's staff door, ivr.voice.staff_door, which this module
serves as HotlineDoor). Then the staff member picks a language and is walked through every
prompt of it that has no current recording: "prompt 3 of 40", the text (in Twilio's voice
where the language has one), a beep, <Record>; then hears it back: 1 keeps it, 2 records it
again. Each step saves where the call is (ivr.console.live), so the console's live page
shows the text to read, in step. The state of the call travels in a signed token in the
action URLs, so any worker answers any step.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

import requests
from flask import Blueprint, Flask, Response, current_app, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.voice_response import VoiceResponse

from ivr.console.activity import TWILIO_API
from ivr.console.live import CHECKING, FINISHED, READING, Position, call_key, note_position
from ivr.console.progress import to_record
from ivr.console.published import hotline_key
from ivr.console.recording import RecordingError, save_recording, telephone_audio, text_to_read
from ivr.console.store import engine, session_scope
from ivr.content.i18n import SOURCE_LANGUAGE, language_name
from ivr.security import FailureLimit, public_url, twilio_signed
from ivr.settings import SETTINGS, ServiceKey
from ivr.voice.hotline import Hotline

log = logging.getLogger(__name__)
bp = Blueprint("staff_line", __name__, url_prefix="/voice/staff")

ENGLISH = {"language": "en-GB", "voice": "Polly.Amy"}
TOKEN_SECONDS = 3 * 3600
MAX_SECONDS = 60
AUTHOR = "phone line"
Fetch = Callable[[Flask, str], bytes | None]


def _hotline() -> Hotline:
    return current_app.extensions["hotline"]


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="staff-recording-line")


def _state() -> dict[str, Any] | None:
    try:
        found = _signer().loads(request.args.get("t", ""), max_age=TOKEN_SECONDS)
    except BadSignature:
        return None
    return found if isinstance(found, dict) else None


def _url(endpoint: str, **state: Any) -> str:
    """An absolute URL of this line, as Twilio reaches it (Twilio documents absolute URLs)."""
    return public_url(url_for(endpoint, t=_signer().dumps(state)))


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _goodbye(text: str) -> Response:
    response = VoiceResponse()
    response.say(text, **ENGLISH)
    response.hangup()
    return _twiml(response)


def languages(hotline: Hotline) -> list[str]:
    return [code for code in hotline.profile.languages if code != SOURCE_LANGUAGE]


@bp.post("")
@twilio_signed
def answer() -> Response:
    if not current_app.config.get("STAFF_RECORDING_PIN"):
        return _goodbye("The recording line is not set up. Goodbye.")
    response = VoiceResponse()
    gather = response.gather(action=_url("staff_line.pin", tries=0), method="POST",
                             finish_on_key="#", timeout=10)
    gather.say("Staff recording line. Enter your PIN, then press hash.", **ENGLISH)
    response.say("No PIN entered. Goodbye.", **ENGLISH)
    return _twiml(response)


# Wrong recording PINs, both ways in, counted for the whole hotline and not per caller: a
# From number can be faked, so a per-number count would not stop anyone. Past the limit
# no PIN is accepted for the rest of the hour, the right one included (recording waits;
# no caller of the hotline is affected).
WRONG_PIN_LIMIT = "20 per hour"
WRONG_PINS: ServiceKey[FailureLimit] = ServiceKey("staff_line_wrong_pins")


def wrong_pins_of(app: Flask) -> FailureLimit:
    # Fail closed: with the store down, wrong PINs cannot be counted, so none is tried (the
    # staff line waits; no caller of the hotline is affected).
    settings = SETTINGS.get(app)
    return FailureLimit("recording-pin", WRONG_PIN_LIMIT,
                        settings.ratelimit_storage_uri or "memory://", fail_closed=True,
                        key_prefix=settings.redis_key_prefix)


def _right_pin(entered: str) -> bool:
    """Whether `entered` is the PIN, within the hotline's allowance of wrong ones."""
    expected = str(current_app.config.get("STAFF_RECORDING_PIN") or "")
    wrong, key = WRONG_PINS.get(), hotline_key(_hotline().profile)
    if not expected or not entered or not wrong.may_try(key):
        return False  # nothing entered (a staff phone calling the hotline) is no guess
    if hmac.compare_digest(entered.encode(), expected.encode()):
        return True
    wrong.failed(key)
    return False


def _language_menu() -> VoiceResponse:
    """After the right PIN: the languages to record, one number each."""
    response = VoiceResponse()
    gather = response.gather(action=_url("staff_line.language", ok=True), method="POST",
                             finish_on_key="#", timeout=10)
    choices = ", ".join(f"{language_name(code, SOURCE_LANGUAGE)}, {i}" for i, code
                        in enumerate(languages(_hotline()), start=1))
    gather.say(f"Enter the number of the language, then hash. {choices}.", **ENGLISH)
    return response


@bp.post("/pin")
@twilio_signed
def pin() -> Response:
    if _state() is None or not _right_pin(request.form.get("Digits") or ""):
        log.warning("staff recording line: a wrong PIN")
        return _goodbye("That PIN is not right. Goodbye.")
    return _twiml(_language_menu())


class HotlineDoor:
    """This line as the hotline number's staff door enters it (ivr.voice.staff_door)."""

    def is_open(self) -> bool:
        return bool(current_app.config.get("STAFF_RECORDING_PIN"))

    def enter(self, digits: str) -> str | None:
        if not _right_pin(digits):
            if digits:
                log.warning("staff door: a wrong recording PIN; the call goes on to the hotline")
            return None
        return str(_language_menu())


@bp.post("/language")
@twilio_signed
def language() -> Response:
    state, codes = _state(), languages(_hotline())
    digits = request.form.get("Digits") or ""
    if state is None or not state.get("ok"):
        return _goodbye("This call has expired. Goodbye.")
    if not digits.isdigit() or not 1 <= int(digits) <= len(codes):
        return _goodbye("There is no such language. Goodbye.")
    lang = codes[int(digits) - 1]
    queue = to_record(_hotline(), lang)
    return _prompt(lang, queue, 0)


def _track(lang: str, queue: list[str], index: int, step: str) -> None:
    """Save where this call is, for the console's live page (bounded; skipped on failure)."""
    sid = request.form.get("CallSid") or ""
    if sid:
        note_position(engine(), Position(
            hotline_key(_hotline().profile), call_key(current_app.config["SECRET_KEY"], sid),
            lang, tuple(queue), index, step))


def _prompt(lang: str, queue: list[str], done: int, notice: str | None = None) -> Response:
    """Ask for the next prompt of the queue, or say that every one is recorded."""
    _track(lang, queue, min(done, len(queue)), READING if done < len(queue) else FINISHED)
    if done >= len(queue):
        return _goodbye(f"{notice + ' ' if notice else ''}Every "
                        f"{language_name(lang, SOURCE_LANGUAGE)} prompt is recorded. Callers "
                        "hear your takes once another operator approves them in the console. "
                        "Thank you. Goodbye.")
    prompt_id, h = queue[done], _hotline()
    response = VoiceResponse()
    if notice:
        response.say(notice, **ENGLISH)
    response.say(f"Prompt {done + 1} of {len(queue)}: {prompt_id.replace('.', ' ')}.", **ENGLISH)
    text = text_to_read(h, lang, prompt_id) or ""
    voice = h.prompter.voice(lang)
    if voice:
        say_language, say_voice = voice
        response.say(text, language=say_language, **({"voice": say_voice} if say_voice else {}))
    response.say("Read it after the beep; press hash when you finish.", **ENGLISH)
    response.record(action=_url("staff_line.recorded", lang=lang, queue=queue, done=done),
                    method="POST", max_length=MAX_SECONDS, play_beep=True, finish_on_key="#",
                    trim="trim-silence")
    return _twiml(response)


@bp.post("/recorded")
@twilio_signed
def recorded() -> Response:
    state = _state()
    sid = request.form.get("RecordingSid") or ""
    if state is None:
        return _goodbye("This call has expired. Goodbye.")
    if not sid.startswith("RE") or not sid.isalnum():
        return _prompt(state["lang"], state["queue"], state["done"])
    _track(state["lang"], state["queue"], state["done"], CHECKING)
    response = VoiceResponse()
    gather = response.gather(action=_url("staff_line.keep", **state, sid=sid), method="POST",
                             num_digits=1, timeout=10)
    heard = request.form.get("RecordingUrl") or ""
    if heard.startswith(TWILIO_API + "/"):  # Twilio's own URL of the take, to hear it back
        gather.play(heard)
    gather.say("Press 1 to keep it, 2 to record it again.", **ENGLISH)
    response.redirect(_url("staff_line.keep", **state, sid=sid), method="POST")
    return _twiml(response)


@bp.post("/keep")
@twilio_signed
def keep() -> Response:
    state = _state()
    if state is None:
        return _goodbye("This call has expired. Goodbye.")
    lang, queue, done = state["lang"], state["queue"], state["done"]
    if request.form.get("Digits") != "1":
        return _prompt(lang, queue, done)  # 2, another key or nothing: record it again
    fetch: Fetch = current_app.config.get("STAFF_RECORDING_FETCH") or _fetch_from_twilio
    data = fetch(current_app._get_current_object(), state["sid"])  # type: ignore[attr-defined]
    try:
        if data is None:
            raise RecordingError("the recording could not be fetched from Twilio")
        audio = telephone_audio(data, "phone.wav")
        try:
            with session_scope() as db:
                save_recording(db, _hotline(), AUTHOR, lang, queue[done], audio, "phone")
        except SQLAlchemyError as exc:
            log.warning("staff recording line: a recording was not saved (%s)",
                        type(exc).__name__)
            raise RecordingError("it could not be saved just now.") from exc
    except RecordingError as exc:
        log.warning("staff recording line: a recording was refused: %s", exc)
        response = VoiceResponse()
        response.say(f"Not kept: {exc} Once more.", **ENGLISH)
        response.redirect(_url("staff_line.again", lang=lang, queue=queue, done=done),
                          method="POST")
        return _twiml(response)
    return _prompt(lang, queue, done + 1,
                   "Kept. It waits for another operator's approval in the console.")


@bp.post("/again")
@twilio_signed
def again() -> Response:
    state = _state()
    if state is None:
        return _goodbye("This call has expired. Goodbye.")
    return _prompt(state["lang"], state["queue"], state["done"])


def _fetch_from_twilio(app: Flask, recording_sid: str) -> bytes | None:
    account, token = app.config.get("TWILIO_ACCOUNT_SID"), app.config.get("TWILIO_AUTH_TOKEN")
    if not account or not token:
        return None
    try:
        response = requests.get(f"{TWILIO_API}/Accounts/{account}/Recordings/{recording_sid}.wav",
                                auth=(account, token), timeout=10)
    except requests.RequestException as exc:
        log.warning("staff recording line: fetching failed: %s", type(exc).__name__)
        return None
    return response.content if response.status_code == 200 else None
