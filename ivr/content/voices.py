"""Twilio's text-to-speech voices: the list the hotline may use, and what a profile lacks."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.content.audio import PROMPTS_DIR
from ivr.content.sound import Problem

if TYPE_CHECKING:
    from ivr.content.profile import Profile



# --- Twilio's voices -------------------------------------------------------------------------

VOICE_LIST = PROMPTS_DIR / "twilio_voices.toml"


@dataclass(frozen=True, slots=True)
class VoiceList:
    """Twilio's <Say> voices per language, as kept in prompts/twilio_voices.toml."""

    voices: dict[str, tuple[str, ...]]
    no_voice: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = VOICE_LIST) -> VoiceList:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls({lang: tuple(names) for lang, names in data["voices"].items()},
                   tuple(data.get("no_voice", [])))

    def problem(self, say_language: str, say_voice: str | None) -> str | None:
        """Why Twilio would refuse this pair, or None if it is a listed pair."""
        if say_language not in self.voices:
            return f"Twilio has no <Say> language {say_language!r} in the voice list"
        if say_voice is not None and say_voice not in self.voices[say_language]:
            return f"{say_voice!r} does not speak {say_language!r}"
        return None


def voice_problems(profile: Profile, voices: VoiceList) -> list[Problem]:
    """Each profile language whose say_language/say_voice Twilio would not accept."""
    found = []
    for lang in profile.languages.values():
        if lang.say_language:
            why = voices.problem(lang.say_language, lang.say_voice)
            if why:
                found.append(Problem(f"{profile.path.name} [{lang.code}]", why))
    return found
