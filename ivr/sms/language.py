"""Which language to answer a free text in, and what to do when that is not clear."""

from __future__ import annotations

from collections.abc import Iterable

from ivr.sms.keywords import languages_of_script
from ivr.sms.text import KeywordTable, detect_language


def language_of_text(text: str, keywords: KeywordTable, languages: Iterable[str]) -> str | None:
    """The language a free text is in, or None when that is not clear.

    A keyword written inside the text decides ("help pls": English); a word of several
    languages (POLICE: en, fr) narrows the choice. The script narrows it too: Arabic
    letters can only be Arabic in a profile with one Arabic-script language. Only then the
    statistical detector judges, among what is left; it gives up on a few words.
    """
    profile_languages = tuple(languages)
    candidates = profile_languages
    hint = keywords.find_inside(text)
    if hint is not None:
        if len(hint.languages) == 1:
            return hint.languages[0]
        candidates = tuple(code for code in candidates if code in hint.languages)
    candidates = languages_of_script(text, candidates)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return None
    return detect_language(text, candidates, model=profile_languages)


def bilingual(first: str, second: str) -> str:
    """Two short texts in two languages, one message: for a sender whose language is
    unclear, rather than a confident wrong one."""
    return first if first == second else f"{first}\n{second}"
