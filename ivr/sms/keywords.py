"""How a keyword is recognised when the sender cannot type it as the profile writes it.

Many senders have a phone set to a Latin keyboard (DOPOMOHA for ДОПОМОГА, POMOSHCH for
ПОМОЩЬ), type Arabic the everyday way (مساعده for مساعدة) or write Traditional Chinese
(幫助 for 帮助). Plain functions, no Flask, no database.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import cyrtranslit

# cyrtranslit's code for each profile language written in Cyrillic.
CYRILLIC_LANGUAGES = {"uk": "ua", "ru": "ru", "bg": "bg", "sr": "sr", "mk": "mk", "be": "by"}

# Arabic letters typed interchangeably, folded the way Arabic search engines do: the alef
# with hamza or madda to the bare alef, teh marbuta to heh, alef maksura to yeh, and the
# hamza seats to their letter.
_ARABIC_FOLD = str.maketrans({
    "\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627",
    "\u0629": "\u0647", "\u0649": "\u064a", "\u0624": "\u0648", "\u0626": "\u064a",
    "\u0640": None,  # tatweel: stretching, not a letter
})
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670]")  # harakat, shadda, sukun, dagger alef

_opencc_lock = threading.Lock()


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> object:
    import opencc  # its dictionaries load in about 50 ms: only when Chinese is met

    return opencc.OpenCC("t2s")


def fold_script(text: str) -> str:
    """Arabic spelling variants folded; Traditional Chinese turned Simplified."""
    if any("\u0600" <= c <= "\u06ff" for c in text):
        text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLD)
    if any(unicodedata.name(c, "").startswith("CJK") for c in text):
        converter = _traditional_to_simplified()
        with _opencc_lock:
            text = str(converter.convert(text))  # type: ignore[attr-defined]
    return text


def is_cyrillic(text: str) -> bool:
    return any("CYRILLIC" in unicodedata.name(c, "") for c in text)


def is_latin(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all("LATIN" in unicodedata.name(c, "") for c in letters)


# Ways of writing one Cyrillic sound in Latin letters, reduced to one spelling. Applied to
# both the keyword's transliteration and the sender's text, so only consistency matters:
# ПОМОЩЬ (cyrtranslit "POMOSHH'") and the typed POMOSHCH, POMOSH, pomosch meet at "pomos".
_SOUNDS = (("shch", "s"), ("shh", "s"), ("sch", "s"), ("sh", "s"), ("ch", "c"),
           ("cz", "c"), ("tz", "c"), ("ts", "c"), ("zh", "z"), ("kh", "h"), ("ck", "k"),
           ("ph", "f"), ("g", "h"), ("x", "h"), ("j", "i"), ("y", "i"), ("w", "v"),
           ("q", "k"))
_NOT_LETTER = re.compile(r"[^a-z]")
_DOUBLE = re.compile(r"(.)\1+")


def without_repeats(word: str) -> str:
    """A word with each run of one letter cut to one ("ayudaa", "HILFEEE")."""
    return _DOUBLE.sub(r"\1", word)


def latin_skeleton(word: str) -> str:
    """A Latin-script word reduced to how it sounds, roughly: lower case, no accents,
    one spelling per sound, no doubled letters (so typos of spelling still meet)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    plain = plain.replace("đ", "d").replace("ł", "l").replace("ß", "ss")
    plain = _NOT_LETTER.sub("", plain)
    for spelling, sound in _SOUNDS:
        plain = plain.replace(spelling, sound)
    return _DOUBLE.sub(r"\1", plain)


def transliteration(word: str, language: str) -> str | None:
    """A Cyrillic keyword as cyrtranslit writes it in Latin letters, lower case, without
    apostrophes; None for a word in another script."""
    code = CYRILLIC_LANGUAGES.get(language)
    if code is None or not is_cyrillic(word):
        return None
    return cyrtranslit.to_latin(word, code).casefold().replace("'", "")


def latin_forms(word: str, language: str) -> set[str]:
    """The skeletons a sender on a Latin keyboard may type for a keyword of a language."""
    if is_cyrillic(word):
        code = CYRILLIC_LANGUAGES.get(language)
        if code is None:
            return set()
        return {latin_skeleton(cyrtranslit.to_latin(word, code))}
    if is_latin(word):
        return {latin_skeleton(word)}
    return set()


def within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by at most one letter added, left out, changed or two
    neighbours swapped (the usual typing slips)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


# Scripts and the profile languages that write in them: where only one language of a
# profile writes a script, a text in it says its language however short it is.
SCRIPT_LANGUAGES = {"ARABIC": ("ar", "fa", "ur"), "CJK": ("zh", "ja"),
                    "CYRILLIC": tuple(CYRILLIC_LANGUAGES), "GREEK": ("el",),
                    "HEBREW": ("he",), "GEORGIAN": ("ka",), "ARMENIAN": ("hy",)}


def script_of(text: str) -> str | None:
    """The script most letters of a text are in (LATIN, CYRILLIC, ARABIC, CJK …)."""
    counts: dict[str, int] = {}
    for c in text:
        if c.isalpha():
            name = unicodedata.name(c, "")
            script = "CJK" if name.startswith("CJK") else name.split(" ")[0]
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda s: counts[s]) if counts else None


def languages_of_script(text: str, languages: tuple[str, ...]) -> tuple[str, ...]:
    """The profile languages a text's script allows (Latin: every language not written
    in another script only; Serbian is written in both)."""
    script = script_of(text)
    if script is None:
        return languages
    if script in SCRIPT_LANGUAGES:
        return tuple(code for code in languages if code in SCRIPT_LANGUAGES[script])
    other = {code for codes in SCRIPT_LANGUAGES.values() for code in codes} - {"sr"}
    return tuple(code for code in languages if code not in other)
