"""What a caller can hear: one entry per (language, prompt, exact text), and its file name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ivr.content.audio import text_hash

if TYPE_CHECKING:
    from ivr.content.profile import Profile
    from ivr.content.speech import Prompter



# --- what a caller can hear: one entry per (language, prompt, exact text) ------------------


@dataclass(frozen=True, slots=True)
class Need:
    """One exact text a caller can hear in one language, and where they hear it."""

    lang: str
    prompt_id: str
    text: str
    where: str
    translated: bool  # False: the catalog has no translation, callers get English
    extra: tuple[tuple[str, str], ...] = ()  # the call parameters it is filled with

    @property
    def sha256(self) -> str:
        return text_hash(self.text)


def prompt_needs(profile: Profile, prompter: Prompter) -> list[Need]:
    """Every (language, prompt, filled text) the call flow can speak with this profile.

    Mirrors ivr/voice/engine.py: the keys, destinations and language names each prompt is
    filled with there. SMS-only prompts are left out: nobody hears them.
    """
    from ivr.content.i18n import language_name
    from ivr.content.profile import MORE_LANGUAGES_KEY, NUMBER_NOW

    p = profile
    several_pages = len(p.language_pages) > 1
    found: dict[tuple[str, str, str], Need] = {}
    for lang in p.languages.values():
        code = lang.code
        wanted: list[tuple[str, dict[str, str], str]] = []
        if lang.countries or code == p.greeting_language:  # it can host the language menu
            wanted.append(("greeting", {}, "greeting"))
            wanted.append(("language.person", {}, "language menu, last"))
            if several_pages:
                wanted.append(("language.more", {"key": MORE_LANGUAGES_KEY}, "language menu"))
        wanted.append(("language.option", {"key": lang.key}, "language menu"))
        if lang.page > 1 and lang.countries:
            wanted.append(("language.option_next_page",
                           {"more": MORE_LANGUAGES_KEY, "key": lang.key},
                           "language menu, suggested first"))
        for notice in ("keys.explain", "keys.wrong", "sms.sent", "sms.failed", "record.empty",
                       "record.intro", "record.thanks", "connect.next"):
            wanted.append((notice, {}, "call flow"))
        for destination in p.destinations.values():
            wanted.append(("connect.hold", {"destination": destination.label},
                           f"connecting to {destination.name}"))
        for node in p.nodes.values():
            if node.prompt:
                wanted.append((node.prompt, {}, f"menu {node.name}"))
            for option in node.options:
                wanted.append((option.prompt, {"key": option.key},
                               f"menu {node.name}, key {option.key}"))
            if node.outro:
                wanted.append((node.outro, {}, f"menu {node.name}, after the options"))
        if code in (p.greeting_language, "en"):
            wanted.append(("fallback.sorry", {}, "fallback when the app fails"))
        if code == p.greeting_language and "emergency.reminder" in p.prompts:
            wanted.append(("emergency.reminder", {}, "fallback when the app fails"))
        if code == p.staff_language:
            no_language, _ = prompter.text(code, "whisper.no_language")
            for named in [language_name(other, code) for other in p.languages] + [no_language]:
                wanted.append(("whisper", {"language": named}, "whisper to the helpline"))
            wanted.append(("whisper.gone", {}, "to a person who answers after the caller "
                           "was taken or moved on"))
            wanted.append(("staff.recording_pin", {}, "to a helpline phone calling the hotline"))
        if prompter.voice(code) is None:
            wanted.append(("language.english_follows", {}, "before English, where no audio"))
        for prompt_id, extra, where in wanted:
            # A text naming the line open now is heard with each number it can name.
            fillings = [extra]
            if f"%({NUMBER_NOW})s" in p.prompt_text(prompt_id):
                fillings = [{**extra, NUMBER_NOW: number}
                            for number in prompter.numbers_now_ever(code)]
            for filled in fillings:
                text, used = prompter.text(code, prompt_id, filled)
                key = (code, prompt_id, text)
                if key not in found:
                    found[key] = Need(code, prompt_id, text, where, used == code,
                                      tuple(sorted(filled.items())))
    return list(found.values())


def file_stems(needs: Iterable[Need]) -> dict[Need, str]:
    """The file name (without .wav) of each need: its prompt id, with a hash if it has variants.

    A prompt heard with several texts in one language (connect.hold with two destinations,
    the whisper with every language name) gets one file per text: <prompt>.<hash8>.
    """
    by_prompt: dict[tuple[str, str], list[Need]] = {}
    for need in needs:
        by_prompt.setdefault((need.lang, need.prompt_id), []).append(need)
    stems = {}
    for (_, prompt_id), variants in by_prompt.items():
        unique = {need.text for need in variants}
        for need in variants:
            stems[need] = prompt_id if len(unique) == 1 else f"{prompt_id}.{need.sha256[:8]}"
    return stems
