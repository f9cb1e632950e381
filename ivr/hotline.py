"""One hotline, assembled from its profile: the model every channel reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from twilio.twiml.voice_response import VoiceResponse

from ivr.audio import AudioLibrary
from ivr.engine import Clock, Engine, SmsSender, utc_now
from ivr.i18n import Catalogs
from ivr.profile import Profile, load_profile
from ivr.speech import Prompter

log = logging.getLogger(__name__)


@dataclass
class Hotline:
    profile: Profile
    catalogs: Catalogs
    audio: AudioLibrary
    prompter: Prompter
    engine: Engine
    fallback_twiml: str


def build_hotline(profile_path: str | Path | None = None, clock: Clock = utc_now,
                  send_sms: SmsSender | None = None) -> Hotline:
    """Read the profile, catalogs and audio manifest once; raises ProfileError on a bad profile."""
    profile = load_profile(profile_path)
    catalogs = Catalogs(list(profile.languages))
    audio = AudioLibrary()
    prompter = Prompter(profile, catalogs, audio)
    engine = Engine(profile, prompter, clock=clock, send_sms=send_sms)
    return Hotline(profile, catalogs, audio, prompter, engine,
                   str(fallback_response(profile, prompter)))


def fallback_response(profile: Profile, prompter: Prompter,
                      caller_id: str | None = None) -> VoiceResponse:
    """What a caller gets when the app fails: an apology, then every number of the person line.

    Built once at start (and by `ivr export-fallback`), so answering needs no profile,
    catalog or database. No whisper: its URL would need this app, which is failing.
    """
    response = VoiceResponse()
    spoken = prompter.speak(response, profile.greeting_language, "fallback.sorry")
    if spoken.lang != "en":  # a foreign caller has not chosen a language yet
        prompter.speak(response, "en", "fallback.sorry")
    destination = profile.destinations[profile.person]
    numbers = list(dict.fromkeys(n for step in destination.open_steps + destination.closed_steps
                                 for n in step))[:10]
    dial = response.dial(caller_id=caller_id, timeout=profile.ring_seconds * 2,
                         answer_on_bridge=True) if caller_id else response.dial(
        timeout=profile.ring_seconds * 2, answer_on_bridge=True)
    for number in numbers:
        dial.number(number)
    prompter.speak(response, profile.greeting_language, "emergency.reminder"
                   if "emergency.reminder" in profile.prompts else "greeting")
    return response
