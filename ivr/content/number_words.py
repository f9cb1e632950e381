"""Numbers, times and ranges written out as words, for the synthesizer's text.

espeak-ng's Luxembourgish voice drops the tens digit of every number it reads ("18" is heard
"aacht", 08:00–16:00 "eight to six"; review C1 of 2026-12-07), and neither Babel/CLDR (no
spell-out rules) nor num2words (no lb) writes them out. So the text for the synthesizer of
lb and sq gets its numbers as words by the small rules below: whole numbers 0 to 9999,
times of day (HH:MM) and ranges of either. Longer numbers, or those written with a leading
zero ("0800"), are read digit by digit, as a phone number is. The caller's text, its hash
and the catalogs are untouched: only what the synthesizer is given changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

DASHES = "-\u2013\u2014\u2011\u2212"
_TIME = r"([01]?\d|2[0-3]):([0-5]\d)"
_TIME_RANGE = re.compile(_TIME + r"\s*[" + DASHES + r"]\s*" + _TIME)
_ONE_TIME = re.compile(r"\b" + _TIME + r"\b")
_NUMBER_RANGE = re.compile(r"\b(\d{1,4})\s*[" + DASHES + r"]\s*(\d{1,4})\b")
_NUMBER = re.compile(r"\d+")
LARGEST = 9999


@dataclass(frozen=True)
class NumberRules:
    """How one language says whole numbers, times of day and ranges."""

    number: Callable[[int], str]
    digit_names: tuple[str, ...]
    time: Callable[[int, int], str]  # hour, minute
    time_range: Callable[[int, int, int, int], str]
    number_range: Callable[[str, str], str]


# --- Luxembourgish ------------------------------------------------------------------------

_LB_DIGITS = ("null", "eent", "zwee", "dräi", "véier", "fënnef", "sechs", "siwen", "aacht",
              "néng")
_LB_TEENS = ("zéng", "eelef", "zwielef", "dräizéng", "véierzéng", "fofzéng", "siechzéng",
             "siwwenzéng", "uechtzéng", "nonzéng")
_LB_TENS = ("", "", "zwanzeg", "drësseg", "véierzeg", "fofzeg", "sechzeg", "siwwenzeg",
            "achtzeg", "nonzeg")


def _lb_prefix(digit: int) -> str:
    """A digit before "an…", "honnert" or "dausend": "een", not "eent"."""
    return "een" if digit == 1 else _LB_DIGITS[digit]


def _lb_and(tens_word: str) -> str:
    """"an" before the tens, its n dropped before most consonants (the Eifel rule)."""
    return "an" if tens_word[0] in "aeiouäéëdhntz" else "a"


def _lb_below_100(n: int) -> str:
    if n < 10:
        return _LB_DIGITS[n]
    if n < 20:
        return _LB_TEENS[n - 10]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return _LB_TENS[tens]
    return _lb_prefix(unit) + _lb_and(_LB_TENS[tens]) + _LB_TENS[tens]


def lb_number(n: int) -> str:
    """0 to 9999 in Luxembourgish words; parts spaced, so the synthesizer meets known words."""
    if not 0 <= n <= LARGEST:
        raise ValueError(f"{n} is out of 0..{LARGEST}")
    parts = []
    thousands, rest = divmod(n, 1000)
    hundreds, rest = divmod(rest, 100)
    if thousands:
        parts.append("dausend" if thousands == 1 else f"{_lb_prefix(thousands)}dausend")
    if hundreds:
        parts.append("honnert" if hundreds == 1 else f"{_lb_prefix(hundreds)}honnert")
    if rest or not parts:
        parts.append(_lb_below_100(rest))
    return " ".join(parts)


def _lb_time(hour: int, minute: int) -> str:
    return f"{lb_number(hour)} Auer" + (f" {lb_number(minute)}" if minute else "")


def _lb_time_range(h1: int, m1: int, h2: int, m2: int) -> str:
    if m1 == 0 and m2 == 0:
        return f"vun {lb_number(h1)} bis {lb_number(h2)} Auer"
    return f"vun {_lb_time(h1, m1)} bis {_lb_time(h2, m2)}"


LUXEMBOURGISH = NumberRules(lb_number, _LB_DIGITS, _lb_time, _lb_time_range,
                            lambda a, b: f"{a} bis {b}")

# --- Albanian -----------------------------------------------------------------------------

_SQ_DIGITS = ("zero", "një", "dy", "tre", "katër", "pesë", "gjashtë", "shtatë", "tetë",
              "nëntë")
_SQ_TEENS = ("dhjetë", "njëmbëdhjetë", "dymbëdhjetë", "trembëdhjetë", "katërmbëdhjetë",
             "pesëmbëdhjetë", "gjashtëmbëdhjetë", "shtatëmbëdhjetë", "tetëmbëdhjetë",
             "nëntëmbëdhjetë")
_SQ_TENS = ("", "", "njëzet", "tridhjetë", "dyzet", "pesëdhjetë", "gjashtëdhjetë",
            "shtatëdhjetë", "tetëdhjetë", "nëntëdhjetë")


def _sq_below_100(n: int) -> str:
    if n < 10:
        return _SQ_DIGITS[n]
    if n < 20:
        return _SQ_TEENS[n - 10]
    tens, unit = divmod(n, 10)
    return _SQ_TENS[tens] + (f" e {_SQ_DIGITS[unit]}" if unit else "")


def sq_number(n: int) -> str:
    """0 to 9999 in Albanian words: "njëqind e trembëdhjetë" (113)."""
    if not 0 <= n <= LARGEST:
        raise ValueError(f"{n} is out of 0..{LARGEST}")
    parts = []
    thousands, rest = divmod(n, 1000)
    hundreds, rest = divmod(rest, 100)
    if thousands:
        parts.append(f"{_SQ_DIGITS[thousands]} mijë")
    if hundreds:
        parts.append(f"{_SQ_DIGITS[hundreds]}qind")
    if rest or not parts:
        parts.append(_sq_below_100(rest))
    return " e ".join(parts)


def _sq_time(hour: int, minute: int) -> str:
    return f"ora {sq_number(hour)}" + (f" e {sq_number(minute)}" if minute else "")


def _sq_time_range(h1: int, m1: int, h2: int, m2: int) -> str:
    second = sq_number(h2) + (f" e {sq_number(m2)}" if m2 else "")
    return f"nga {_sq_time(h1, m1)} deri në orën {second}"


ALBANIAN = NumberRules(sq_number, _SQ_DIGITS, _sq_time, _sq_time_range,
                       lambda a, b: f"nga {a} deri në {b}")

RULES = {"lb": LUXEMBOURGISH, "sq": ALBANIAN}


def spelled_out(text: str, lang: str) -> str:
    """`text` with its numbers, times and ranges as words in `lang`; unchanged for a
    language without rules here."""
    rules = RULES.get(lang)
    if rules is None:
        return text

    def whole(digits: str) -> str:
        value = int(digits)
        if (len(digits) > 1 and digits.startswith("0")) or value > LARGEST:
            return " ".join(rules.digit_names[int(d)] for d in digits)
        return rules.number(value)

    text = _TIME_RANGE.sub(lambda m: rules.time_range(*(int(g) for g in m.groups())), text)
    text = _ONE_TIME.sub(lambda m: rules.time(int(m[1]), int(m[2])), text)
    text = _NUMBER_RANGE.sub(lambda m: rules.number_range(whole(m[1]), whole(m[2])), text)
    return _NUMBER.sub(lambda m: whole(m[0]), text)
