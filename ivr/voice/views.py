"""The voice channel: Twilio's voice webhooks, answered with TwiML from the engine."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from ivr.security import twilio_signed
from ivr.storage.db import EVENTS, EventLog, within
from ivr.storage.voice_messages import Recording, store_voice_messages
from ivr.voice.engine import Answer, Caller, Engine, pressed
from ivr.voice.hotline import HOTLINE, Hotline
from ivr.voice.staff_door import DOOR_ROUTE, STAFF_LINE, StaffLine, door, is_helpline_phone
from ivr.voice.state import CallState, as_count

log = logging.getLogger(__name__)

BASE = "/voice"
bp = Blueprint("voice", __name__, url_prefix=BASE)
RECORDING_DEADLINE_S = 3.0  # storing a voice message reference, then a 503


def hotline() -> Hotline:
    return HOTLINE.get()


def engine() -> Engine:
    return hotline().engine


def events() -> EventLog:
    return EVENTS.get()


def caller() -> Caller:
    form = request.form
    return Caller(form.get("From", ""), form.get("To", ""), form.get("FromCountry", ""),
                  form.get("CallSid", "")[:64])


def call_sid() -> str:
    return request.form.get("CallSid", "")[:64]


def state() -> CallState:
    """The call state this webhook's URL carries."""
    # A plain dict: a MultiDict raises (and catches) an HTTP error for each absent key.
    return CallState.from_query(request.args.to_dict())


def twiml(answer: Answer | str) -> Response:
    """A TwiML document (the engine builds it with twilio's VoiceResponse) as the answer."""
    document = answer.twiml if isinstance(answer, Answer) else answer
    response = Response(document, mimetype="text/xml")
    if isinstance(answer, Answer) and answer.after is not None:
        after_answering(response, answer.after)
    return response


def after_answering(response: Response, work: Callable[[], None]) -> None:
    """REST requests the engine wants made once the answer has been sent (stopping phones
    nobody needs): on this request's own thread, after its last byte, so that nobody waits
    for them and nothing outlives the request."""

    def run() -> None:
        try:
            work()
        except Exception:  # noqa: BLE001 — logged; the phones ring out on their own timeout
            log.exception("work after a voice answer failed")

    response.call_on_close(run)


def note_menu_heard(answer: Answer, current: str | None = None) -> None:
    """Record the menu the caller now hears, when it is another one (where they go)."""
    if answer.menu_heard and answer.menu_heard[1] != current:
        note("menu", language=answer.menu_heard[0], node=answer.menu_heard[1])


def note(kind: str, **fields: object) -> None:
    """Queue an anonymous event for this call (never blocks the caller)."""
    events().event("voice", kind, request.form.get("CallSid"), **fields)


def staff_line_at_the_door() -> StaffLine | None:
    """The staff line this call may enter: one is set up and the call is from a helpline
    phone. None for every other call (the number is compared, never kept or logged)."""
    line = STAFF_LINE.find()
    if line is None or not line.is_open():
        return None
    h = hotline()
    phone = is_helpline_phone(h.helpline_phones, request.form.get("From", ""), h.profile.country)
    return line if phone else None


@bp.post("")
@twilio_signed
def incoming() -> Response:
    if staff_line_at_the_door() is not None:
        return twiml(door(engine()))  # "arrived" is noted if it goes on into the hotline
    note("arrived")
    return twiml(engine().incoming(caller()))


@bp.post("/" + DOOR_ROUTE)
@twilio_signed
def staff_door() -> Response:
    """The PIN typed at the staff door: the staff line for the right one; for a wrong one or
    silence, the hotline, exactly as any caller hears it from the start."""
    line = staff_line_at_the_door()
    if line is not None:
        entered = line.enter(pressed(request.form.get("Digits")))
        if entered is not None:
            return twiml(entered)
    note("arrived")
    return twiml(engine().incoming(caller()))


@bp.post("/language")
@twilio_signed
def language() -> Response:
    answer = engine().choose_language(state(), request.form.get("Digits"), caller())
    note_menu_heard(answer)
    return twiml(answer)


@bp.post("/menu")
@twilio_signed
def menu() -> Response:
    here = state()
    answer = engine().press(here, request.form.get("Digits"), caller())
    note_menu_heard(answer, here.node)
    return twiml(answer)


@bp.post("/dialed")
@twilio_signed
def dialed() -> Response:
    here = state()
    status = request.form.get("DialCallStatus")
    note("dialed", language=here.lang or "", node=here.destination or "",
         outcome=(status or "")[:32])
    answer = engine().dialed(here, status, request.form.get("DialBridged"), caller())
    note_menu_heard(answer)  # nobody answered: the caller hears what they can do instead
    return twiml(answer)


@bp.post("/whisper")
@twilio_signed
def whisper() -> Response:
    return twiml(engine().whisper(state()))


@bp.post("/whisper/answer")
@twilio_signed
def whisper_answer() -> Response:
    answer = engine().whisper_answer(request.form.get("Digits"))
    note("whisper", language=state().lang or "", outcome=answer.event)
    return twiml(answer)


@bp.post("/ring/wait")
@twilio_signed
def ring_wait() -> Response:
    """The waitUrl of a caller whose phones ring together (ivr/voice/together.py)."""
    return twiml(engine().ring_wait(state(), request.form.get("QueueTime")))


@bp.post("/ring/left")
@twilio_signed
def ring_left() -> Response:
    """The Enqueue action: the caller left the queue (QueueResult says how)."""
    here = state()
    result = request.form.get("QueueResult")
    note("dialed", language=here.lang or "", node=here.destination or "",
         outcome=f"queue {result or ''}"[:32])
    answer = engine().ring_left(here, result, request.form.get("QueueSid"), caller())
    note_menu_heard(answer)
    return twiml(answer)


@bp.post("/ring/leg")
@twilio_signed
def ring_leg() -> Response:
    """A phone called for a ring together picked up: the whisper."""
    return twiml(engine().ring_leg(state(), call_sid()))


@bp.post("/ring/accept")
@twilio_signed
def ring_accept() -> Response:
    here = state()
    answer = engine().ring_accept(here, request.form.get("Digits"), call_sid())
    note("whisper", language=here.lang or "", outcome=answer.event)
    return twiml(answer)


@bp.post("/ring/taken")
@twilio_signed
def ring_taken() -> Response:
    """The accepting person's <Dial><Queue> ended."""
    form = request.form
    return twiml(engine().ring_taken(form.get("DialCallStatus"), form.get("DialCallDuration")))


@bp.post("/ring/status")
@twilio_signed
def ring_status() -> Response:
    """A status callback of a phone's call; for an unknown or finished ring, ignored (204)."""
    response = Response(status=204)
    work = engine().ring_status(state(), call_sid(), request.form.get("CallStatus"))
    if work is not None:
        after_answering(response, work)
    return response


@bp.post("/recorded")
@twilio_signed
def recorded() -> Response:
    return twiml(engine().recorded(state(), request.form.get("RecordingDuration")))


@bp.post("/recording")
@twilio_signed
def recording() -> Response:
    """Twilio's recording status callback: the reference is stored before the answer; a 503
    when it could not be (`ivr recordings sync` recovers it from Twilio's API)."""
    form = request.form
    sid = form.get("RecordingSid", "")
    if form.get("RecordingStatus", "completed") == "completed" and sid:
        message = Recording(sid=sid[:64], at=datetime.now(UTC),
                            language=state().lang,
                            duration=as_count(form.get("RecordingDuration"), 10_000))
        try:
            within(RECORDING_DEADLINE_S, store_voice_messages,
                   current_app.extensions["voice_messages_engine"], [message], lane="voice")
        except (SQLAlchemyError, TimeoutError) as exc:
            log.warning("voice message %s not stored (%s): answered 503; `ivr recordings "
                        "sync` recovers it", message.sid, type(exc).__name__)
            return Response(status=503)
    return Response(status=204)


@bp.post("/status")
@twilio_signed
def status() -> Response:
    """Twilio's call status callback: an anonymous record of how the call ended."""
    form = request.form
    note("ended", outcome=(form.get("CallStatus") or "")[:32],
         duration=as_count(form.get("CallDuration"), 100_000))
    return Response(status=204)


@bp.post("/fallback")
@twilio_signed
def fallback() -> Response:
    """Twilio's Fallback URL: answered from memory, with nothing that could fail again."""
    return twiml(fallback_answer())


def fallback_answer() -> str:
    """The fallback document, showing the helpline the hotline's number (this call's To)."""
    return hotline().fallback.twiml(caller_id=request.form.get("To") or None)


@bp.errorhandler(Exception)
def answer_anyway(error: Exception) -> Response | HTTPException:
    """A fault in a step must not drop the caller: connect them as the fallback does."""
    if isinstance(error, HTTPException):
        return error
    log.exception("voice step failed; answering with the fallback")
    return twiml(fallback_answer())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
