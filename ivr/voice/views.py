"""The voice channel: Twilio's voice webhooks, answered with TwiML from the engine."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException

from ivr.security import twilio_signed
from ivr.storage.db import EVENTS, EventLog, VoiceMessage
from ivr.voice.engine import Caller, Engine, as_count
from ivr.voice.hotline import HOTLINE, Hotline

log = logging.getLogger(__name__)

bp = Blueprint("voice", __name__, url_prefix="/voice")


def hotline() -> Hotline:
    return HOTLINE.get()


def engine() -> Engine:
    return hotline().engine


def events() -> EventLog:
    return EVENTS.get()


def caller() -> Caller:
    form = request.form
    return Caller(form.get("From", ""), form.get("To", ""), form.get("FromCountry", ""))


def arg(name: str) -> str | None:
    return request.args.get(name)


def twiml(document: str) -> Response:
    """A TwiML document (the engine builds it with twilio's VoiceResponse) as the answer."""
    return Response(document, mimetype="text/xml")


# The menu a TwiML answer plays: its gather posts back to /voice/menu with l= and n=.
HEARD_MENU = re.compile(r'<Gather action="/voice/menu\?l=([a-z]{2,8})&amp;n=([\w.-]{1,64})&')


def note_menu_heard(answer: str, current: str | None = None) -> None:
    """Record the menu the caller now hears, when it is another one (where they go)."""
    match = HEARD_MENU.search(answer)
    if match and match.group(2) != current:
        note("menu", language=match.group(1), node=match.group(2))


def note(kind: str, **fields: object) -> None:
    """Queue an anonymous event for this call (never blocks the caller)."""
    events().event("voice", kind, request.form.get("CallSid"), **fields)


@bp.post("")
@twilio_signed
def incoming() -> Response:
    note("arrived")
    return twiml(engine().incoming(caller()))


@bp.post("/language")
@twilio_signed
def language() -> Response:
    response = engine().choose_language(as_count(arg("p")) or 1, request.form.get("Digits"),
                                        arg("s"), as_count(arg("r")), as_count(arg("w")),
                                        caller())
    note_menu_heard(response)
    return twiml(response)


@bp.post("/menu")
@twilio_signed
def menu() -> Response:
    node = arg("n")
    response = engine().press(arg("l"), node, request.form.get("Digits"), as_count(arg("r")),
                              as_count(arg("w")), caller())
    note_menu_heard(response, node)
    return twiml(response)


@bp.post("/dialed")
@twilio_signed
def dialed() -> Response:
    status = request.form.get("DialCallStatus")
    note("dialed", language=(arg("l") or "")[:8], node=(arg("d") or "")[:64],
         outcome=(status or "")[:32])
    response = engine().dialed(arg("l"), arg("d"), as_count(arg("t")), status,
                               request.form.get("DialBridged"), caller())
    note_menu_heard(response)  # nobody answered: the caller hears what they can do instead
    return twiml(response)


@bp.post("/whisper")
@twilio_signed
def whisper() -> Response:
    return twiml(engine().whisper(arg("l")))


@bp.post("/whisper/answer")
@twilio_signed
def whisper_answer() -> Response:
    accepted = (request.form.get("Digits") or "").strip() == "1"
    note("whisper", language=(arg("l") or "")[:8], outcome="accepted" if accepted else "declined")
    return twiml(engine().whisper_answer(request.form.get("Digits")))


@bp.post("/recorded")
@twilio_signed
def recorded() -> Response:
    return twiml(engine().recorded(arg("l"), request.form.get("RecordingDuration")))


@bp.post("/recording")
@twilio_signed
def recording() -> Response:
    """Twilio's recording status callback: keep the reference for the helpline."""
    form = request.form
    sid, url = form.get("RecordingSid", ""), form.get("RecordingUrl", "")
    if form.get("RecordingStatus", "completed") == "completed" and sid and url:
        events().put(VoiceMessage(recording_sid=sid[:64], recording_url=url[:512],
                                  language=(arg("l") or "")[:8] or None,
                                  duration=as_count(form.get("RecordingDuration"), 10_000),
                                  at=datetime.now(UTC), state="new"))
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
    return twiml(hotline().fallback_twiml)


@bp.errorhandler(Exception)
def answer_anyway(error: Exception) -> Response | HTTPException:
    """A fault in a step must not drop the caller: connect them as the fallback does."""
    if isinstance(error, HTTPException):
        return error
    log.exception("voice step failed; answering with the fallback")
    return twiml(hotline().fallback_twiml)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
