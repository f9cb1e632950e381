"""The staff door: a helpline phone that calls the hotline may enter a staff line's PIN first.

Only a call from one of the helpline's own phones (a number the profile's destinations
ring) hears it, and only while a staff line is set up: the console registers its recording
line under STAFF_LINE, and the voice channel knows it by this interface alone. Any other
call is answered exactly as before, at once. Silence or a wrong PIN goes on into the
hotline as any caller hears it; only the short wait for the PIN comes first.
"""

from __future__ import annotations

from typing import Protocol

from twilio.twiml.voice_response import VoiceResponse

from ivr.content.profile import Profile, e164
from ivr.settings import ServiceKey
from ivr.voice.ringing import Ringing

DOOR_ROUTE = "staff-door"
# Seconds of silence, after the prompt or the last key, before the hotline goes on.
PIN_TIMEOUT = 4


class StaffLine(Protocol):
    """A line for the helpline's staff, entered with a PIN (ivr.console.phone_line)."""

    def is_open(self) -> bool:
        """Whether the line is set up (it has a PIN)."""
        ...

    def enter(self, digits: str) -> str | None:
        """The line's first TwiML for the right PIN; None for anything else."""
        ...


STAFF_LINE: ServiceKey[StaffLine] = ServiceKey("staff_line")


def helpline_phones(profile: Profile) -> frozenset[str]:
    """The helpline's own phones (its person line's), in E.164 as the loader wrote them:
    another line it rings (the police's) calling the hotline hears nothing different."""
    destination = profile.destinations[profile.person]
    return frozenset(number for step in destination.open_steps + destination.closed_steps
                     for number in step)


def is_helpline_phone(phones: frozenset[str], number: str, country: str) -> bool:
    """Whether a caller's number, as Twilio sends it, is one of `phones` once normalised.

    A withheld or unparsable number ("anonymous", "client:…") is nobody's phone.
    """
    return bool(phones and number) and e164(number, country) in phones


def door(flow: Ringing) -> str:
    """The door's TwiML: the PIN prompt in the staff language, a short wait, then on.

    Silence and the end of the document both post to the door's route without digits,
    which answers with the hotline itself.
    """
    action = flow.link(DOOR_ROUTE)
    response = VoiceResponse()
    gather = response.gather(action=action, method="POST", finish_on_key="#",
                             timeout=PIN_TIMEOUT, action_on_empty_result=True)
    flow.prompter.speak(gather, flow.profile.staff_language, "staff.recording_pin")
    response.redirect(action, method="POST")
    return str(response)
