"""One hotline, assembled from its profile: the model every channel reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from twilio.twiml.voice_response import VoiceResponse

from ivr.content.audio import AudioLibrary
from ivr.content.i18n import SOURCE_LANGUAGE, Catalogs
from ivr.content.profile import Profile
from ivr.content.profile_loader import load_profile
from ivr.content.speech import SOURCE_VOICE, Prompter
from ivr.voice.engine import Clock, Engine, SmsSender, utc_now

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
                  send_sms: SmsSender | None = None,
                  catalogs: Catalogs | None = None) -> Hotline:
    """Read the profile, catalogs and audio manifest once; raises ProfileError on a bad profile.

    Catalogs already read may be passed in (the test suite shares one set across its apps).
    """
    profile = load_profile(profile_path)
    if catalogs is None:
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
    catalog or database. Only <Say>: a <Play> or a whisper URL would need this app, which
    is failing.
    """
    response = VoiceResponse()
    said = _say_only(response, prompter, profile.greeting_language, "fallback.sorry")
    if said != SOURCE_LANGUAGE:  # a foreign caller has not chosen a language yet
        _say_only(response, prompter, SOURCE_LANGUAGE, "fallback.sorry")
    destination = profile.destinations[profile.person]
    numbers = list(dict.fromkeys(n for step in destination.open_steps + destination.closed_steps
                                 for n in step))[:10]
    dial_options: dict[str, object] = {"caller_id": caller_id} if caller_id else {}
    dial = response.dial(timeout=profile.ring_seconds * 2, answer_on_bridge=True,
                         **dial_options)
    for number in numbers:
        dial.number(number)
    reminder = "emergency.reminder" if "emergency.reminder" in profile.prompts else "greeting"
    _say_only(response, prompter, profile.greeting_language, reminder)
    return response


def _say_only(response: VoiceResponse, prompter: Prompter, lang: str, prompt_id: str) -> str:
    """Say a prompt with Twilio's voice for the language, else in English; the language used."""
    text, used = prompter.text(lang, prompt_id)
    voice = prompter.voice(used)
    if voice is None:
        text, used = prompter.text(SOURCE_LANGUAGE, prompt_id)
        voice = prompter.voice(SOURCE_LANGUAGE) or SOURCE_VOICE
    say_language, say_voice = voice
    response.say(text, language=say_language, **({"voice": say_voice} if say_voice else {}))
    return used
