"""Characters a prompt may hold, and the last line of defence for those it must not.

A prompt ends up in an XML document (TwiML's <Say>, an SMS's <Message>) and in a caller's
ear. XML 1.0 forbids most control characters: one U+000B pasted from a word processor
makes every answer that speaks the prompt unparseable, and Twilio plays nothing (error
12100). Other characters are invisible and have no business in a spoken or texted prompt:
other controls, line and paragraph separators, zero-width spaces, byte-order marks,
private-use and unassigned code points. Bidirectional controls belong only in a
right-to-left language, where a sentence may need them.

Every way in (the console's drafts and approvals, `ivr content import`, the catalogs, the
profiles) refuses such text and says which character and where (`problems`); every way
out (the Prompter, the SMS answer and relays) strips what XML forbids whatever is stored
(`xml_safe`), and logs that it had to. `ivr.content.i18n.refusal` applies the rules to a
text in one language.
"""

from __future__ import annotations

import logging
import re
import unicodedata

log = logging.getLogger(__name__)

# Zero-width joiners shape Arabic, Indic and emoji text: allowed in every language.
JOINERS = frozenset("\u200c\u200d")
# Marks and isolates that order right-to-left text: only in a right-to-left language.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
ALLOWED_CONTROLS = frozenset("\t\n\r")
# What XML 1.0 cannot hold: the C0 controls but tab, line feed and carriage return, lone
# surrogates, U+FFFE and U+FFFF.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Names unicodedata has none for, and the one a word processor user knows.
_NAMES = {"\x0b": "LINE TABULATION, a soft line break from a word processor",
          "\x0c": "FORM FEED", "\x1b": "ESCAPE", "\x00": "NULL", "\x7f": "DELETE",
          "\x85": "NEXT LINE"}


def character_name(char: str) -> str:
    """U+000B (LINE TABULATION, …): how an operator is told which character it is."""
    name = _NAMES.get(char) or unicodedata.name(char, "")
    if not name:
        category = unicodedata.category(char)
        name = {"Cc": "a control character", "Cs": "half of a broken character",
                "Co": "a private-use character", "Cn": "an unassigned code point"}.get(
            category, "an invisible character")
    return f"U+{ord(char):04X} ({name})"


def is_forbidden(char: str, right_to_left: bool) -> bool:
    """Whether a prompt may not hold this character."""
    if char in ALLOWED_CONTROLS or char in JOINERS:
        return False
    if char in BIDI_CONTROLS:
        return not right_to_left
    category = unicodedata.category(char)
    # Cc controls, Cf formats (zero-width space, byte-order mark, soft hyphen, tags…), Cs
    # surrogates, Co private use, Cn unassigned and noncharacters, Zl and Zp separators.
    return category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def problems(text: str, right_to_left: bool = False) -> list[str]:
    """Each character a prompt must not hold, with its place (1-based), at most 5; empty
    when the text is fine."""
    found = []
    for place, char in enumerate(text, start=1):
        if is_forbidden(char, right_to_left):
            found.append(f"{character_name(char)} at character {place}")
            if len(found) == 5:
                break
    return found


def describe_problems(text: str, right_to_left: bool = False) -> str | None:
    """One sentence for an operator, or None when the text is fine."""
    found = problems(text, right_to_left)
    if not found:
        return None
    return ("The text holds a character that cannot be spoken or sent: " + "; ".join(found)
            + ". Delete it (it may be invisible: retype the words around it).")


def xml_safe(text: str, where: str = "") -> str:
    """The text without what XML 1.0 forbids: a prompt or message body stored with one
    (however it got there) can never make a TwiML document unparseable. Logged, never the
    text itself (it may be a person's message)."""
    if not _XML_FORBIDDEN.search(text):
        return text
    cleaned, count = _XML_FORBIDDEN.subn("", text)
    log.warning("removed %d character(s) XML forbids from %s before answering", count,
                where or "a text")
    return cleaned
