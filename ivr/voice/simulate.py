"""Walk the call menu without a phone, through the very webhooks Twilio calls.

Used by `ivr call` in a terminal (and by anything else that wants to try a menu): each
step posts to the app as Twilio would and reads back the TwiML it answered.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import phonenumbers
from flask import Flask
from flask.testing import FlaskClient
from phonenumbers import PhoneNumberType

from ivr.twilio_rest import RestRefused
from ivr.voice.hotline import HOTLINE
from ivr.voice.state import CallState
from ivr.voice.together import TOGETHER


@dataclass(frozen=True, slots=True)
class Heard:
    """One thing the caller hears: spoken text (with its language) or an audio file."""

    kind: str  # "say" | "play"
    text: str  # the words, or the audio URL
    language: str | None = None
    voice: str | None = None


@dataclass
class Step:
    """What one TwiML document does to the caller."""

    heard: list[Heard] = field(default_factory=list)
    gather_action: str | None = None
    redirect: str | None = None
    dial_numbers: list[str] = field(default_factory=list)
    dial_action: str | None = None
    queue: str | None = None  # <Enqueue>: the caller waits while phones ring together
    wait_url: str | None = None
    queue_action: str | None = None
    whisper_url: str | None = None
    caller_id: str | None = None
    record_action: str | None = None
    hangup: bool = False
    twiml: str = ""

    @property
    def waits_for_key(self) -> bool:
        return self.gather_action is not None

    @property
    def rings_together(self) -> bool:
        return self.queue is not None


def parse_twiml(twiml: str) -> Step:
    """Read a TwiML document into what the caller hears and where it goes next."""
    step = Step(twiml=twiml)
    root = ET.fromstring(twiml)

    def hear(element: ET.Element) -> None:
        if element.tag == "Say":
            step.heard.append(Heard("say", element.text or "", element.get("language"),
                                    element.get("voice")))
        elif element.tag == "Play":
            step.heard.append(Heard("play", element.text or ""))

    for verb in root:
        if verb.tag == "Gather" and step.gather_action is None:
            step.gather_action = verb.get("action")
            for child in verb:
                hear(child)
        elif verb.tag in ("Say", "Play"):
            hear(verb)
        elif verb.tag == "Redirect" and step.redirect is None:
            step.redirect = verb.text
        elif verb.tag == "Dial":
            step.dial_action = verb.get("action")
            step.caller_id = verb.get("callerId")
            for number in verb.iter("Number"):
                step.dial_numbers.append((number.text or "").strip())
                step.whisper_url = step.whisper_url or number.get("url")
        elif verb.tag == "Enqueue":
            step.queue = (verb.text or "").strip()
            step.wait_url, step.queue_action = verb.get("waitUrl"), verb.get("action")
        elif verb.tag == "Record":
            step.record_action = verb.get("action")
        elif verb.tag == "Hangup":
            step.hangup = True
    return step


@dataclass
class SimulatedCall:
    """One call, driven key by key; every request is a real webhook of the app."""

    app: Flask
    from_number: str = ""  # default: phonenumbers' example mobile of the hotline's country
    to_number: str = ""  # default: its example fixed line, standing in for the hotline
    from_country: str = ""
    call_sid: str = "CAsimulated"
    client: FlaskClient = field(init=False)
    step: Step = field(init=False, default_factory=Step)

    def __post_init__(self) -> None:
        self.client = self.app.test_client()
        country = HOTLINE.get(self.app).profile.country
        self.from_number = self.from_number or example_number(country, mobile=True)
        self.to_number = self.to_number or example_number(country, mobile=False)

    def _post(self, url: str, **form: str) -> Step:
        data = {"From": self.from_number, "To": self.to_number, "CallSid": self.call_sid,
                "FromCountry": self.from_country, **form}
        response = self.client.post(url, data=data, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        response.close()  # what the app does after answering runs now, as under gunicorn
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        self.step = parse_twiml(response.get_data(as_text=True))
        return self.step

    def start(self) -> Step:
        return self._post("/voice")

    def press(self, key: str) -> Step:
        """Press a key ("" for silence) in the menu that is playing."""
        if not self.step.gather_action:
            raise RuntimeError("nothing is waiting for a key")
        return self._post(self.step.gather_action, Digits=key)

    def whisper(self) -> Step:
        """What the person who answers hears before accepting."""
        if not self.step.whisper_url:
            raise RuntimeError("nothing is ringing")
        return parse_twiml(self.client.post(
            self.step.whisper_url, data={"CallSid": "CAleg"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True))

    def ring_out(self, bridged: bool) -> Step:
        """The ringing ends: a person accepted (bridged) or nobody did."""
        if not self.step.dial_action:
            raise RuntimeError("nothing is ringing")
        status = "completed" if bridged else "no-answer"
        return self._post(self.step.dial_action, DialCallStatus=status,
                          DialBridged="true" if bridged else "false")

    def leave_message(self, seconds: int = 12) -> Step:
        if not self.step.record_action:
            raise RuntimeError("nothing is recording")
        return self._post(self.step.record_action, RecordingDuration=str(seconds),
                          RecordingUrl="https://api.twilio.com/recording", RecordingSid="RE0")

    def _side(self, url: str | None, **form: str) -> Step:
        """A webhook of a phone's call (or a callback) that does not move the caller."""
        if not url:
            return Step()
        response = self.client.post(url, data=form, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        response.close()
        if response.status_code == 204:
            return Step()
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return parse_twiml(response.get_data(as_text=True))

    def ring_story(self) -> RingStory:
        """The phones ringing together for this caller: the hold, and each whisper."""
        if not self.step.queue:
            raise RuntimeError("nothing rings together")
        api = rest_of(self.app)
        legs = api.of_ring(self.step.queue) if api else []
        hold = self._side(self.step.wait_url, **self._form(QueueTime="0"))
        whispers = [self._side(leg.url, CallSid=leg.sid, From=self.to_number, To=leg.to)
                    for leg in legs]
        return RingStory(hold, [leg.to for leg in legs], whispers)

    def ring_out_together(self, accepting: int | None, voicemail_first: bool = False
                          ) -> tuple[Step, RingStory]:
        """Play the ring together out: the person on phone `accepting` (its place) presses
        1, after a voicemail answered the first phone if so; None: nobody accepts."""
        queue, queue_action = self.step.queue, self.step.queue_action
        story = self.ring_story()
        api = rest_of(self.app)
        legs = api.of_ring(queue or "") if api else []
        for leg in legs:
            self._side(leg.status_callback, CallSid=leg.sid, CallStatus="ringing")
        if voicemail_first and legs:
            first = legs[0]
            self._side(first.status_callback, CallSid=first.sid, CallStatus="in-progress")
            self._side(story.whispers[0].gather_action, CallSid=first.sid, Digits="")
            self._side(first.status_callback, CallSid=first.sid, CallStatus="completed")
            story.declined.append(first.to)
        if accepting is not None and 0 <= accepting < len(legs):
            leg = legs[accepting]
            self._side(leg.status_callback, CallSid=leg.sid, CallStatus="in-progress")
            self._side(story.whispers[accepting].gather_action, CallSid=leg.sid, Digits="1")
            story.accepted = leg.to
            result = "bridged"
        else:
            for leg in legs:
                if leg.to not in story.declined:
                    self._side(leg.status_callback, CallSid=leg.sid, CallStatus="no-answer")
            story.left = self._side(self.step.wait_url, **self._form(QueueTime="99"))
            result = "leave"
        story.stopped = [leg.to for leg in legs if api and leg.sid in api.stopped]
        step = self._post(queue_action or "", QueueResult=result, QueueSid="QUtry",
                          QueueTime="10")
        return step, story

    def _form(self, **extra: str) -> dict[str, str]:
        return {"From": self.from_number, "To": self.to_number, "CallSid": self.call_sid,
                **extra}

    def follow_redirect(self) -> Step:
        if not self.step.redirect:
            raise RuntimeError("no redirect")
        return self._post(self.step.redirect)


@dataclass(frozen=True)
class PlacedCall:
    """A call the REST API was asked to place to a phone (never placed when simulating)."""

    sid: str
    to: str
    url: str
    status_callback: str


@dataclass
class SimulatedRest:
    """Twilio's REST API for trying the menu (`ivr call`, the console's Try it): calls are
    noted, never placed; told to refuse, it answers 401, as a rotated token would."""

    refuses: bool = False
    placed: list[PlacedCall] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)

    def create_call(self, to: str, from_: str, url: str, status_callback: str,
                    timeout: int) -> str:
        if self.refuses:
            raise RestRefused("HTTP 401, as told")
        sid = f"CAtry{len(self.placed):04d}"
        self.placed.append(PlacedCall(sid, to, url, status_callback))
        return sid

    def end_call(self, sid: str, status: str) -> None:
        self.stopped.append(sid)

    def delete_queue(self, queue_sid: str) -> None:
        return None

    def probe(self) -> None:
        if self.refuses:
            raise RestRefused("HTTP 401, as told")

    def forget_connections(self) -> None:
        return None

    def of_ring(self, ring: str) -> list[PlacedCall]:
        return [call for call in self.placed if f"c={ring}&" in call.url + "&"]


@dataclass
class RingStory:
    """A ring together as it played out: what the held caller and each phone heard."""

    hold: Step  # the first wait document: what the caller hears while the phones ring
    phones: list[str]
    whispers: list[Step]  # what the person on each phone hears on picking up
    accepted: str | None = None
    stopped: list[str] = field(default_factory=list)  # phones the hotline stopped ringing
    declined: list[str] = field(default_factory=list)  # picked up and pressed nothing
    left: Step | None = None  # the wait document that ended the hold, when nobody accepted


def rest_of(app: Flask) -> SimulatedRest | None:
    """The app's simulated REST API, where it has one."""
    together = TOGETHER.find(app)
    api = together.api if together is not None else None
    return api if isinstance(api, SimulatedRest) else None


def refuse_rest(app: Flask, refuses: bool) -> None:
    """Have the simulated REST API refuse (or not), and the app see it at once."""
    api, together = rest_of(app), TOGETHER.find(app)
    if api is not None and together is not None:
        api.refuses = refuses
        together.health.check()


def example_number(country: str, mobile: bool) -> str:
    """A number that looks real for a country (from phonenumbers' metadata), in E.164."""
    kind = PhoneNumberType.MOBILE if mobile else PhoneNumberType.FIXED_LINE
    number = phonenumbers.example_number_for_type(country, kind)
    if number is None:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def state_of(url: str | None) -> CallState:
    """The call state a callback URL carries, e.g. to see which menu node a step is in."""
    return CallState.from_url(url)
