"""Everything one or more profiles can say, with the audio library that speaks it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.content.audio import (
    AudioFile,
    AudioLibrary,
)
from ivr.content.i18n import Catalogs
from ivr.content.needs import Need, file_stems, prompt_needs
from ivr.content.profile import PROFILES_DIR, Profile
from ivr.content.profile_loader import load_profile
from ivr.content.speech import Prompter

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff",
                            ".aifc", ".au", ".snd", ".w64", ".caf", ".wv"})
# Targets of the issue: every menu's full prompt, and the greeting with page 1 of languages.
# --- the prompts of one or more profiles --------------------------------------------------


@dataclass
class ProfileSet:
    profile: Profile
    prompter: Prompter
    needs: list[Need]

    def needs_audio(self, lang: str) -> bool:
        """True where Twilio cannot speak the language: only files reach the caller."""
        return self.prompter.voice(lang) is None


@dataclass
class PromptSet:
    """Everything the shipped (or given) profiles can say, and the audio library."""

    library: AudioLibrary
    profiles: list[ProfileSet]
    needs: list[Need] = field(default_factory=list)
    stems: dict[Need, str] = field(default_factory=dict)

    @classmethod
    def load(cls, profile_paths: Iterable[Path], root: Path | None = None,
             locales_dir: Path | None = None) -> PromptSet:
        library = AudioLibrary(root)
        sets = []
        for path in profile_paths:
            profile = load_profile(path)
            catalogs = (Catalogs(list(profile.languages), locales_dir) if locales_dir
                        else Catalogs(list(profile.languages)))
            prompter = Prompter(profile, catalogs, library)
            sets.append(ProfileSet(profile, prompter, prompt_needs(profile, prompter)))
        unique: dict[tuple[str, str, str], Need] = {}
        for profile_set in sets:
            for need in profile_set.needs:
                unique.setdefault((need.lang, need.prompt_id, need.text), need)
        needs = list(unique.values())
        return cls(library, sets, needs, file_stems(needs))

    @property
    def root(self) -> Path:
        return self.library.root

    def languages(self) -> list[str]:
        return list(dict.fromkeys(code for s in self.profiles for code in s.profile.languages))

    def needs_audio(self, lang: str) -> bool:
        return any(s.needs_audio(lang) for s in self.profiles if lang in s.profile.languages)

    def needs_of(self, lang: str) -> list[Need]:
        return [need for need in self.needs if need.lang == lang]

    def current(self, need: Need) -> AudioFile | None:
        return self.library.current(need.lang, need.prompt_id, need.text)

    def stale(self) -> list[AudioFile]:
        """Files whose text no profile says any more: never played, always reported."""
        wanted = {(n.lang, n.prompt_id, n.sha256) for n in self.needs}
        return [audio for key, audio in sorted(self.library.files.items()) if key not in wanted]


def default_profiles() -> list[Path]:
    """The shipped profiles, and HOTLINE_PROFILE if it names another."""
    paths = sorted(PROFILES_DIR.glob("*.toml"))
    configured = os.environ.get("HOTLINE_PROFILE")
    if configured and Path(configured).resolve() not in [p.resolve() for p in paths]:
        paths.append(Path(configured))
    return paths
