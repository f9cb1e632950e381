"""Progress at a glance: per language, texts approved, recordings, and what a caller hears."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr.console.menu import (
    ELSEWHERE,
    HEARD_RECORDING,
    HEARD_SYNTHESIZED,
    HEARD_VOICE,
    RECORDED,
    STALE,
    PromptUse,
    TextSummary,
    distinct_prompts,
    menu_tree,
    prompt_view,
    text_summary,
)
from ivr.console.published import PublishedContent
from ivr.console.recording import text_to_read
from ivr.content.i18n import SOURCE_LANGUAGE, language_name
from ivr.content.profile import Profile
from ivr.voice.hotline import Hotline

# Said outside the menu but to callers; the rest of ELSEWHERE's sms.* are text messages.
SPOKEN_ELSEWHERE_SMS = frozenset({"sms.sent", "sms.failed"})
# Not for callers to hear in their language: the staff whisper and staff door, the
# <Say>-only fallback, and the English stand-ins of the language menu.
NOT_RECORDED = frozenset({"whisper", "whisper.no_language", "staff.recording_pin",
                          "fallback.sorry", "language.named_option",
                          "language.named_option_next_page"})
# What a caller hears, best first.
RECORDING, VOICE, PLACEHOLDER, ENGLISH = "recording", "Twilio voice", "placeholder", "English"
HEARD_KINDS = (RECORDING, VOICE, PLACEHOLDER, ENGLISH)
CURRENT, MISSING = "current", "missing"  # and STALE, as the menu says it


def spoken_prompts(profile: Profile) -> list[PromptUse]:
    """Every distinct prompt a caller hears in their language, in call order."""
    found: dict[str, PromptUse] = {}
    for node in menu_tree(profile):
        for use in node.prompts:
            pid = use.prompt_id
            if pid in found or pid in NOT_RECORDED:
                continue
            if node.name == ELSEWHERE and pid.startswith("sms.") \
                    and pid not in SPOKEN_ELSEWHERE_SMS:
                continue
            found[pid] = use
    return list(found.values())


@dataclass(frozen=True)
class PromptStatus:
    prompt_id: str
    text: str  # what the caller hears, filled
    heard: str  # recording | Twilio voice | placeholder | English
    recording: str  # current | stale | missing (a person's recording)
    approved: bool  # approved here, or a reviewed / non-fuzzy catalog translation


@dataclass
class LanguageProgress:
    lang: str
    name: str
    prompts: list[PromptStatus] = field(default_factory=list)  # those callers hear
    texts: TextSummary = TextSummary(0, 0, 0, 0)  # every prompt's text, as Review counts

    def count(self, **match: object) -> int:
        return sum(all(getattr(p, k) == v for k, v in match.items()) for p in self.prompts)

    @property
    def heard(self) -> Counter[str]:
        return Counter(p.heard for p in self.prompts)

    @property
    def percent_recorded(self) -> int:
        return round(100 * self.count(recording=CURRENT) / len(self.prompts)) \
            if self.prompts else 0


def prompt_status(hotline: Hotline, lang: str, use: PromptUse,
                  reviews: Mapping[tuple[str, str], set[str]]) -> PromptStatus:
    """One prompt in one language: what a caller hears today and how far it is, read from
    the same view every page shows (ivr.console.menu.prompt_view)."""
    view = prompt_view(hotline, lang, use, reviews)
    heard = {HEARD_RECORDING: RECORDING, HEARD_SYNTHESIZED: PLACEHOLDER,
             HEARD_VOICE: VOICE}.get(view.heard_as, ENGLISH)
    if heard == RECORDING:
        recording = CURRENT
    elif view.audio == STALE or _recorded_before(hotline, lang, use.prompt_id):
        recording = STALE
    else:
        recording = MISSING
    return PromptStatus(use.prompt_id, view.text, heard, recording, view.text_ready)


def _recorded_before(hotline: Hotline, lang: str, prompt_id: str) -> bool:
    """A person's recording exists, for a text that has changed since."""
    published = hotline.prompter.published
    live = published.snapshot.recordings.get((lang, prompt_id)) \
        if isinstance(published, PublishedContent) else None
    return live is not None or any(key[:2] == (lang, prompt_id) and audio.source == RECORDED
                                   for key, audio in hotline.audio.files.items())


def language_progress(hotline: Hotline, lang: str,
                      reviews: Mapping[tuple[str, str], set[str]]) -> LanguageProgress:
    progress = LanguageProgress(lang, language_name(lang, SOURCE_LANGUAGE))
    for use in spoken_prompts(hotline.profile):
        progress.prompts.append(prompt_status(hotline, lang, use, reviews))
    progress.texts = text_summary(prompt_view(hotline, lang, use, reviews)
                                  for use in distinct_prompts(hotline.profile))
    return progress


def all_progress(hotline: Hotline,
                 reviews: Mapping[tuple[str, str], set[str]]) -> list[LanguageProgress]:
    """Every profile language but English, in the profile's order."""
    return [language_progress(hotline, lang, reviews)
            for lang in hotline.profile.languages if lang != SOURCE_LANGUAGE]


def to_record(hotline: Hotline, lang: str) -> list[str]:
    """The prompts of a language with a text and no current recording, in call order (the
    order the staff recording line asks for them)."""
    found = []
    for use in spoken_prompts(hotline.profile):
        if text_to_read(hotline, lang, use.prompt_id) is None:
            continue
        if prompt_status(hotline, lang, use, {}).recording != CURRENT:
            found.append(use.prompt_id)
    return found
