"""One hotline, assembled from its profile: the model every channel reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from twilio.twiml.voice_response import VoiceResponse

from ivr.content.audio import AudioLibrary
from ivr.content.i18n import SOURCE_LANGUAGE, Catalogs
from ivr.content.needs import prompt_needs
from ivr.content.profile import Profile
from ivr.content.profile_loader import load_profile
from ivr.content.speech import SOURCE_VOICE, Prompter
from ivr.settings import ServiceKey
from ivr.voice.engine import Clock, Engine, SmsSender, utc_now
from ivr.voice.staff_door import helpline_phones

log = logging.getLogger(__name__)


Said = tuple[str, str, str | None]  # (text, Twilio language, Twilio voice)


@dataclass(frozen=True)
class Fallback:
    """The fallback answer, prepared at start: rendering it reads nothing that could fail.

    Only <Say> and <Dial>: a <Play> or a whisper URL would fetch from the app that is
    failing. The phones ring one after another (a voicemail on one phone cannot stop the
    others: Twilio hangs up the other <Number>s of a <Dial> when one picks up), each shown
    the hotline's own number, never the caller's.
    """

    first: tuple[Said, ...]
    numbers: tuple[str, ...]
    ring_seconds: int
    last: tuple[Said, ...]

    def twiml(self, caller_id: str | None = None, whisper_url: str | None = None) -> str:
        """The document; `caller_id` is the hotline's number (the request's To)."""
        response = VoiceResponse()
        for said in self.first:
            _say(response, said)
        options: dict[str, object] = {"caller_id": caller_id} if caller_id else {}
        for number in self.numbers:
            dial = response.dial(timeout=self.ring_seconds, answer_on_bridge=True, **options)
            dial.number(number, **({"url": whisper_url, "method": "POST"} if whisper_url
                                   else {}))
        for said in self.last:
            _say(response, said)
        return str(response)


@dataclass
class Hotline:
    profile: Profile
    catalogs: Catalogs
    audio: AudioLibrary
    prompter: Prompter
    engine: Engine
    fallback: Fallback

    @cached_property
    def helpline_phones(self) -> frozenset[str]:
        """The helpline's own phones (E.164): a call from one may enter the staff door."""
        return helpline_phones(self.profile)

    @cached_property
    def spoken_prompts(self) -> dict[str, frozenset[str]]:
        """Per language, the prompt ids the call flow says to its callers (ivr.content.needs
        mirrors the engine): they depend on the profile alone, so worked out once."""
        by_lang: dict[str, set[str]] = {}
        for need in prompt_needs(self.profile, self.prompter):
            by_lang.setdefault(need.lang, set()).add(need.prompt_id)
        return {code: frozenset(ids) for code, ids in by_lang.items()}

    @property
    def fallback_twiml(self) -> str:
        """The fallback without a caller id, as `ivr export-fallback` writes it by default."""
        return self.fallback.twiml()


HOTLINE: ServiceKey[Hotline] = ServiceKey("hotline")


def build_hotline(profile_path: str | Path | None = None, base: str = "/voice",
                  clock: Clock = utc_now, send_sms: SmsSender | None = None,
                  catalogs: Catalogs | None = None, media_base: str = "") -> Hotline:
    """Read the profile, catalogs and audio manifest once; raises ProfileError on a bad profile.

    `base` is the URL the voice webhooks are mounted under (the public https://host and the
    blueprint's prefix; the prefix alone in local mode), `media_base` the host of the audio.
    Catalogs already read may be passed in (the test suite shares one set across its apps).
    """
    profile = load_profile(profile_path)
    if catalogs is None:
        catalogs = Catalogs(list(profile.languages))
    audio = AudioLibrary()
    prompter = Prompter(profile, catalogs, audio)
    prompter.media_base = media_base.rstrip("/")
    prompter.clock = clock  # "where to turn now" follows the clock the ringing reads
    engine = Engine(profile, prompter, base, clock=clock, send_sms=send_sms)
    return Hotline(profile, catalogs, audio, prompter, engine,
                   prepare_fallback(profile, prompter))


def prepare_fallback(profile: Profile, prompter: Prompter) -> Fallback:
    """The fallback's words and numbers: an apology, every phone of the person line, 113.

    The caller has not chosen a language yet: the greeting's language, then English.
    """
    destination = profile.destinations[profile.person]
    numbers = tuple(dict.fromkeys(n for step in destination.open_steps + destination.closed_steps
                                  for n in step))[:10]
    reminder = "emergency.reminder" if "emergency.reminder" in profile.prompts else "greeting"
    return Fallback(_in_two(prompter, profile.greeting_language, "fallback.sorry"), numbers,
                    profile.ring_seconds, _in_two(prompter, profile.greeting_language, reminder))


def _in_two(prompter: Prompter, lang: str, prompt_id: str) -> tuple[Said, ...]:
    """A prompt in a language, then in English (once, where the first already is English)."""
    first = _said(prompter, lang, prompt_id)
    english = _said(prompter, SOURCE_LANGUAGE, prompt_id)
    return (first,) if first == english else (first, english)


def _said(prompter: Prompter, lang: str, prompt_id: str) -> Said:
    """A prompt with Twilio's voice for the language, else in English."""
    text, used = prompter.text(lang, prompt_id)
    voice = prompter.voice(used)
    if voice is None:
        text, used = prompter.text(SOURCE_LANGUAGE, prompt_id)
        voice = prompter.voice(SOURCE_LANGUAGE) or SOURCE_VOICE
    return text, voice[0], voice[1]


def _say(response: VoiceResponse, said: Said) -> None:
    text, language, voice = said
    response.say(text, language=language, **({"voice": voice} if voice else {}))
