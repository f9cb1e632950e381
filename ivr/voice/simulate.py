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

from ivr.voice.hotline import HOTLINE
from ivr.voice.state import CallState


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
    whisper_url: str | None = None
    caller_id: str | None = None
    record_action: str | None = None
    hangup: bool = False
    twiml: str = ""

    @property
    def waits_for_key(self) -> bool:
        return self.gather_action is not None


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

    def follow_redirect(self) -> Step:
        if not self.step.redirect:
            raise RuntimeError("no redirect")
        return self._post(self.step.redirect)


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
