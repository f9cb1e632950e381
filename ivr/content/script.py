"""The recording script: speaking rates, target durations, and the script as CSV or HTML."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from ivr.content.audio import (
    AudioError,
)
from ivr.content.i18n import CLDR_LOCALES, SOURCE_LANGUAGE
from ivr.content.needs import Need
from ivr.content.prompt_set import PromptSet
from ivr.content.sound import (
    LEAD_PAD,
    TAIL_PAD,
    espeak_seconds,
)
from ivr.content.speech import is_right_to_left

# Characters per second when neither files nor espeak-ng can tell (English IVR speech).
FALLBACK_RATE = 14.0
RATE_SAMPLE = 16
# espeak-ng's Mandarin voice spells most Chinese characters as English letters: its timing
# says nothing about a real voice.
ESPEAK_CANNOT_READ = frozenset({"zh"})

# --- speaking rates and durations -----------------------------------------------------


_DIGIT_GROUPS = re.compile(r"\d( \d){3,}")

class SpeakingRates:
    """Characters per second, per language: measured on its audio files, else on espeak-ng.

    Placeholders are made with espeak-ng at ESPEAK_SPEED; a language with no files of its
    own gets the rate espeak-ng reaches on a sample of its texts. Padding is not counted.
    """

    def __init__(self, prompts: PromptSet) -> None:
        self.prompts = prompts
        self.rates: dict[str, float] = {}
        self.how: dict[str, str] = {}

    def rate(self, lang: str) -> float:
        if lang not in self.rates:
            self.rates[lang], self.how[lang] = self._measure(lang)
        return self.rates[lang]

    def _measure(self, lang: str) -> tuple[float, str]:
        files = [a for a in self.prompts.library.files.values() if a.lang == lang and a.text
                 and a.duration > LEAD_PAD + TAIL_PAD]
        if len(files) >= 3:
            chars = sum(len(a.text) for a in files)
            seconds = sum(a.duration - LEAD_PAD - TAIL_PAD for a in files)
            return chars / seconds, f"{len(files)} audio files"
        translated = [n for n in self.prompts.needs_of(lang) if n.translated]
        if lang in ESPEAK_CANNOT_READ and lang != SOURCE_LANGUAGE and translated:
            # The same message takes about as long in any language; time it in English.
            english = [self._english(n) for n in translated]
            seconds = sum(len(t) for t in english) / self.rate(SOURCE_LANGUAGE)
            return (sum(len(n.text) for n in translated) / seconds,
                    "as long as the English (espeak-ng cannot read this script)")
        # Not texts with a phone number: its digits, said one by one ("0 0 3 5 2, 2 7 …"),
        # take far longer per character than words and would slow every other estimate.
        # A sample chosen by each text's hash: it does not shift when a text is added or
        # reworded elsewhere (a sample by rank did, moving every estimate by up to 10 %).
        every = sorted({n.text for n in translated if not _DIGIT_GROUPS.search(n.text)},
                       key=lambda t: hashlib.sha256(t.encode()).hexdigest())
        texts = every[:RATE_SAMPLE]
        if texts and shutil.which("espeak-ng"):
            seconds = _espeak_total(lang, tuple(texts))
            if seconds > 0:
                return sum(len(t) for t in texts) / seconds, f"espeak-ng, {len(texts)} texts"
        return FALLBACK_RATE, "assumed"

    def seconds(self, text: str, lang: str) -> float:
        return len(text) / self.rate(lang)

    def _english(self, need: Need) -> str:
        for profile_set in self.prompts.profiles:
            if need.lang in profile_set.profile.languages:
                text, _ = profile_set.prompter.text(SOURCE_LANGUAGE, need.prompt_id,
                                                    dict(need.extra))
                return text
        return need.text


@lru_cache(maxsize=64)
def _espeak_total(lang: str, texts: tuple[str, ...]) -> float:
    """Seconds espeak-ng takes for these texts (0 if it fails); the same texts, once."""
    try:
        return sum(espeak_seconds(list(texts), lang))
    except AudioError:
        return 0.0


# --- the recording script -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScriptLine:
    file_id: str
    prompt_id: str
    text: str
    notes: str
    target_seconds: float
    status: str


def script_lines(prompts: PromptSet, lang: str, rates: SpeakingRates) -> list[ScriptLine]:
    """What the voice talent records for one language, in menu order."""
    lines = []
    for need in prompts.needs_of(lang):
        if not need.translated:
            continue
        audio = prompts.current(need)
        status = audio.source if audio else "to record"
        seconds = audio.duration if audio else rates.seconds(need.text, lang) + LEAD_PAD + TAIL_PAD
        notes = need.where
        if need.prompt_id != prompts.stems[need]:
            notes += "; one of several versions of this prompt: keep the file name exact"
        lines.append(ScriptLine(prompts.stems[need], need.prompt_id, need.text, notes,
                                round(seconds, 1), status))
    return lines


SCRIPT_FIELDS = ["id", "text", "notes", "target_seconds", "status"]


def script_csv(lines: list[ScriptLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SCRIPT_FIELDS)
    for line in lines:
        writer.writerow([line.file_id, line.text, line.notes, f"{line.target_seconds:.1f}",
                         line.status])
    return out.getvalue()


def script_html(lines: list[ScriptLine], lang: str, hotline: str, untranslated: int) -> str:
    """The script as a page to print for the voice talent."""
    return _templates().get_template("recording_script.html").render(
        lines=lines, lang=lang, hotline=hotline, untranslated=untranslated,
        # Arabic lines laid out right to left, full stop at the end (review A5).
        direction="rtl" if is_right_to_left(CLDR_LOCALES.get(lang, lang)) else "ltr")


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
