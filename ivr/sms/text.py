"""Text rules of the SMS channel: keyword matching, GSM 03.38 segments, language detection.

Plain functions, no Flask, no database.
"""

from __future__ import annotations

import logging
import re
import subprocess
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

from ivr.sms.keywords import (
    fold_script,
    is_latin,
    latin_forms,
    latin_skeleton,
    transliteration,
    within_one_edit,
    without_repeats,
)
from ivr.sms.language_model import identifier, model_file, restricted

log = logging.getLogger(__name__)

# --- keywords ----------------------------------------------------------------------

# Cyrillic letters that look like Latin ones (after casefolding): a sender may type
# "ПOMOЩЬ" with Latin O and M, or "POLIСЕ" with Cyrillic С and Е. Both sides of a
# comparison are mapped the same way, so only consistency matters.
_LOOKALIKES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "і": "i", "ј": "j", "к": "k", "м": "m", "н": "h",
    "о": "o", "р": "p", "с": "c", "ѕ": "s", "т": "t", "у": "y", "х": "x",
})
_TATWEEL = "\u0640"  # Arabic letter stretching: decoration, not a letter


def _is_edge_noise(char: str) -> bool:
    """Spaces, punctuation, symbols (emoji included) and control characters."""
    return unicodedata.category(char)[0] in "PZSC"


def normalize_keyword(text: str) -> str:
    """A message reduced to what keyword matching compares: no case, accents or edge noise."""
    decomposed = unicodedata.normalize("NFKD", text)
    letters = "".join(c for c in decomposed
                      if unicodedata.category(c) != "Mn" and c != _TATWEEL)
    start, end = 0, len(letters)
    while start < end and _is_edge_noise(letters[start]):
        start += 1
    while end > start and _is_edge_noise(letters[end - 1]):
        end -= 1
    words = letters[start:end].casefold().split()
    return fold_script(" ".join(words).translate(_LOOKALIKES))


# Twilio's own opt-out, opt-in and help words on long codes: they always count.
TWILIO_STOP = ("STOP", "UNSUBSCRIBE", "END", "QUIT", "STOPALL", "REVOKE", "OPTOUT", "CANCEL")
TWILIO_START = ("START", "YES", "UNSTOP")
TWILIO_WORDS = {kind: frozenset(normalize_keyword(w) for w in words)
                for kind, words in (("stop", TWILIO_STOP), ("start", TWILIO_START))}


@dataclass(frozen=True, slots=True)
class KeywordMatch:
    kind: str  # help | signs | police | languages | stop | start | any kind a profile adds
    languages: tuple[str, ...]  # every language in which the word means that, in profile order
    twilio_word: bool  # one Twilio itself acts on (and answers) for STOP/START

    def language(self, preferred: str | None, default: str) -> str:
        """The reply language: the sender's own if the word fits it, else the default, else
        the first language the word belongs to."""
        for candidate in (preferred, default):
            if candidate in self.languages:
                return candidate
        return self.languages[0] if self.languages else default


class KeywordTable:
    """Every keyword of a profile, normalized once."""

    def __init__(self, keywords: Mapping[str, Mapping[str, Iterable[str]]],
                 language_order: Iterable[str]) -> None:
        order = {code: i for i, code in enumerate(language_order)}
        found: dict[str, dict[str, list[str]]] = {}
        for kind, by_language in keywords.items():
            for code, words in by_language.items():
                for word in words:
                    found.setdefault(normalize_keyword(word), {}).setdefault(kind, []).append(code)
        for kind, words in TWILIO_WORDS.items():
            for word in words:
                found.setdefault(word, {}).setdefault(kind, [])
        self._table: dict[str, tuple[str, tuple[str, ...]]] = {}
        for word, kinds in found.items():
            self._table[word] = self._meaning(kinds, order)
        # The same words as a sender on a Latin keyboard types them (DOPOMOHA, POMOSHCH).
        latin: dict[str, dict[str, list[str]]] = {}
        spelled: dict[str, dict[str, list[str]]] = {}
        for kind, by_language in keywords.items():
            for code, words in by_language.items():
                for word in words:
                    literal = transliteration(word, code)
                    if literal:
                        spelled.setdefault(literal, {}).setdefault(kind, []).append(code)
                    for form in latin_forms(word, code):
                        latin.setdefault(form, {}).setdefault(kind, []).append(code)
        # The transliteration itself first: POLITSIYA is Bulgarian's spelling of ПОЛИЦИЯ,
        # though its skeleton is also Russian's, Serbian's and Portuguese's.
        self._spelled = {form: self._meaning(kinds, order) for form, kinds in spelled.items()}
        self._latin = {form: self._meaning(kinds, order)
                       for form, kinds in latin.items() if len(form) >= 3}

    @staticmethod
    def _meaning(kinds: Mapping[str, list[str]], order: Mapping[str, int],
                 ) -> tuple[str, tuple[str, ...]]:
        # A word should have one meaning; if a profile gives it two, opting out wins.
        kind = next((k for k in ("stop", "start") if k in kinds), sorted(kinds)[0])
        codes = sorted(set(kinds[kind]), key=lambda c: order.get(c, len(order)))
        return kind, tuple(codes)

    def _lookup(self, word: str, typos: bool) -> tuple[str, tuple[str, ...]] | None:
        """A normalized word's meaning: as written, else by its Latin skeleton, else (with
        `typos`, for words of 5 letters or more) one slip away from a single keyword."""
        hit = self._table.get(word)
        if hit is not None:
            return hit
        if not is_latin(word):
            return None
        hit = (self._spelled.get(word.replace("'", ""))
               or self._table.get(without_repeats(word)))
        if hit is not None:
            return hit
        skeleton = latin_skeleton(word)
        hit = self._latin.get(skeleton)
        if hit is not None or not typos or len(skeleton) < 5:
            return hit
        # Opting out must be meant: STOP words are never guessed from a slip.
        near = {form: meaning for form, meaning in self._latin.items()
                if len(form) >= 5 and meaning[0] not in ("stop", "start")
                and within_one_edit(skeleton, form)}
        return next(iter(near.values())) if len(set(near.values())) == 1 else None

    def match(self, body: str) -> KeywordMatch | None:
        """The keyword a whole message is, or None for free text."""
        word = normalize_keyword(body)
        hit = self._lookup(word, typos=True) if " " not in word else self._table.get(word)
        if hit is None:
            return None
        kind, languages = hit
        return KeywordMatch(kind, languages, word in TWILIO_WORDS.get(kind, frozenset()))

    def find_inside(self, text: str) -> KeywordMatch | None:
        """The first keyword written as a word inside a longer text ("help pls", "Hilfe
        bitte"), or inside Chinese text, which has no spaces; only words that belong to a
        language count (Twilio's STOP, YES … say nothing about it)."""
        folded = normalize_keyword(text)
        for word in re.findall(r"[^\W\d_]+", folded):
            hit = self._lookup(word, typos=False)
            if hit is not None and hit[1]:
                return KeywordMatch(hit[0], hit[1], False)
        for word, (kind, languages) in self._table.items():
            if languages and any("CJK" in unicodedata.name(c, "") for c in word[:1]) \
                    and word in folded:
                return KeywordMatch(kind, languages, False)
        return None


# --- GSM 03.38 and segments --------------------------------------------------------

GSM7_SINGLE = 160
GSM7_PART = 153  # septets per part of a concatenated message (7 go to the header)
UCS2_SINGLE = 70
UCS2_PART = 67


@dataclass(frozen=True, slots=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    count: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def gsm7_septets(char: str) -> int | None:
    """Septets a character takes in the GSM 03.38 default alphabet (2 with the escape
    table), or None if it has no GSM 03.38 form."""
    if char == "\x1b":
        return None  # the escape code itself is not a character a sender can use
    try:
        return len(char.encode("gsm03.38"))
    except UnicodeEncodeError:
        return None


def count_segments(text: str) -> Segments:
    """How many SMS a text is sent as. A concatenated message never splits an escape
    pair (GSM-7) or a surrogate pair (UCS-2) across two parts."""
    sizes = [gsm7_septets(c) for c in text]
    if all(size is not None for size in sizes):
        septets = [s for s in sizes if s is not None]
        total = sum(septets)
        return Segments("GSM-7", _parts(septets, GSM7_SINGLE, GSM7_PART), total)
    units = [len(c.encode("utf-16-le")) // 2 for c in text]
    return Segments("UCS-2", _parts(units, UCS2_SINGLE, UCS2_PART), sum(units))


def _parts(sizes: list[int], single: int, part: int) -> int:
    total = sum(sizes)
    if total <= single:
        return 1
    count, used = 1, 0
    for size in sizes:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count


# Punctuation Babel and translators use that GSM 03.38 lacks: one such character would
# send the whole reply as UCS-2 (70 characters a part instead of 160).
_GSM_FRIENDLY = str.maketrans({
    "\u2013": "-", "\u2014": "-", "\u2011": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2026": "...",
})


def gsm_friendly(text: str) -> str:
    """Replace typographic punctuation by its GSM 03.38 equivalent; letters are untouched."""
    return text.translate(_GSM_FRIENDLY)


# Starts each line of a right-to-left reply. A phone takes a paragraph's direction from its
# first strong letter (Unicode's rules P2/P3), and an Arabic reply may begin with a Latin
# name ("INFOTRAITE: …"); U+200F is a strong right-to-left letter that shows nothing, and
# unlike the isolates (Unicode 6.3) every bidi implementation knows it.
RIGHT_TO_LEFT_MARK = "\u200f"


def right_to_left(text: str) -> str:
    """A reply laid out right to left on any phone: every line starts with U+200F."""
    return "\n".join(line if line.startswith(RIGHT_TO_LEFT_MARK) else RIGHT_TO_LEFT_MARK + line
                     for line in text.split("\n"))


# --- text from senders -------------------------------------------------------------

MAX_BODY = 1600  # Twilio's limit for one outgoing message


def clean_body(text: str) -> str:
    """A sender's text fit to pass on: control characters out (line breaks kept), spaces
    tidied; empty if nothing readable is left."""
    text = text.replace("\r\n", "\n")
    kept = "".join(" " if unicodedata.category(c) == "Cc" and c != "\n" else c for c in text
                   if unicodedata.category(c) not in ("Cf", "Cs") or c == "\u200d")
    return re.sub(r"[ \t]+", " ", kept).strip()


def truncate(text: str, limit: int) -> str:
    """Cut to `limit` characters, marking the cut with "..." (GSM 03.38 has no "…": one
    would send the whole relayed text as UCS-2, 67 characters a part instead of 153)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- language detection ------------------------------------------------------------

MIN_LETTERS = 8
MIN_CONFIDENCE = 0.6
_identifiers: dict[tuple[tuple[str, ...], tuple[str, ...]], Any] = {}
_identifiers_lock = threading.Lock()


def _identifier(model: tuple[str, ...], codes: tuple[str, ...]) -> Any:
    """py3langid's model cut to `model` (ivr/sms/language_model.py), answering in `codes`."""
    with _identifiers_lock:
        if (model, model) not in _identifiers:
            _identifiers[(model, model)] = identifier(model)
        if (model, codes) not in _identifiers:
            _identifiers[(model, codes)] = restricted(_identifiers[(model, model)], codes)
        return _identifiers[(model, codes)]


def detect_language(text: str, languages: Iterable[str],
                    model: Iterable[str] | None = None) -> str | None:
    """The language a text is most likely in, of `languages`, or None if too short or
    unclear. `model`: the profile's languages (whose model file is written ahead), of which
    `languages` are some; without it, a model of `languages` alone."""
    codes = tuple(sorted(set(languages)))
    if sum(c.isalpha() for c in text) < MIN_LETTERS and not any(
            unicodedata.name(c, "").startswith("CJK") for c in text):
        return None
    if len(codes) == 1:
        return codes[0]
    whole = tuple(sorted(set(model or ()) | set(codes)))
    language, confidence = _identifier(whole, codes).classify(text)
    return str(language) if confidence >= MIN_CONFIDENCE and language in codes else None


_warming: list[threading.Thread] = []
_warming_lock = threading.Lock()


def _load(languages: tuple[str, ...]) -> None:
    """Have the model's file written ahead of the first message. It is mapped (and numpy
    imported, 12 MB) only by a process that reads a text's language, on its first one:
    a worker that only answers calls never holds either."""
    if len(languages) > 1:
        try:
            model_file(languages)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("SMS language model: not written ahead (%s); tried again with the "
                        "first text", type(exc).__name__)


def warm_language_model(languages: Iterable[str]) -> None:
    """Write the model's file for these languages ahead of the first message; when it
    returns, no loading thread is left running (gunicorn forks its workers right after)."""
    _load(tuple(sorted(set(languages))))
    with _warming_lock:
        started, _warming[:] = list(_warming), []
    for thread in started:
        thread.join()


def warm_beside_the_start(languages: Iterable[str]) -> None:
    """Write the model's file on a thread of its own, so that the app's start does not wait."""
    thread = threading.Thread(target=_load, args=(tuple(sorted(set(languages))),),
                              name="sms-language-model", daemon=True)
    with _warming_lock:  # started inside: a thread in the list can always be joined
        _warming[:] = [*(t for t in _warming if t.is_alive()), thread]
        thread.start()
