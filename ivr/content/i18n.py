"""Prompt translations from the Babel catalogs, and the choice of a caller's language."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
from babel import Locale
from babel.messages.pofile import read_po

from ivr.content.profile import Profile, ProfileError
from ivr.content.safe_text import describe_problems

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
SOURCE_LANGUAGE = "en"

# Profile language codes whose CLDR locale needs a script or region to be the right one.
CLDR_LOCALES = {"sr": "sr_Latn", "zh": "zh_Hans"}


def cldr_locale(code: str) -> Locale:
    """The Babel locale for a profile language code (Serbian in Latin script, and so on)."""
    return Locale.parse(CLDR_LOCALES.get(code, code))


def language_name(code: str, in_language: str) -> str:
    """A language's name as said in another language, from CLDR (e.g. uk in fr: ukrainien)."""
    name = cldr_locale(code).get_language_name(cldr_locale(in_language))
    return name or code


def refusal(text: str, lang: str) -> str | None:
    """Why a prompt text in a language cannot be stored (None when it can): bidirectional
    controls are allowed in a right-to-left language only (ivr/content/safe_text.py)."""
    try:
        right_to_left = cldr_locale(lang).character_order == "right-to-left"
    except (ValueError, LookupError):
        right_to_left = False
    return describe_problems(text, right_to_left)


class CatalogError(ProfileError):
    """A catalog a caller cannot be served from; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    fuzzy: bool


class Catalogs:
    """Every language's catalog, read once at start: (prompt id, source text) → translation.

    The .po files are read directly (not the compiled .mo) so that a translation still
    marked fuzzy is used: a machine-made sentence serves a caller better than silence.
    It also spares every deployment a compile step (`ivr i18n compile` builds .mo files
    for gettext tools only); reading fourteen catalogs at start takes 0.02-0.1 s, by
    machine (once, in gunicorn's master).
    """

    def __init__(self, languages: list[str], locales_dir: Path = LOCALES_DIR) -> None:
        self._entries: dict[str, dict[tuple[str | None, str], Translation]] = {}
        for code in languages:
            po_path = locales_dir / code / "LC_MESSAGES" / "messages.po"
            if not po_path.exists():
                continue
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=CLDR_LOCALES.get(code, code))
            entries = {}
            for message in catalog:
                if message.id and isinstance(message.id, str) and message.string:
                    why = refusal(str(message.string), code)
                    if why:
                        raise CatalogError(f"{po_path}:{message.lineno}: msgctxt "
                                           f"{message.context!r}: {why}")
                    entries[(message.context, message.id)] = Translation(
                        str(message.string), message.fuzzy)
            self._entries[code] = entries

    def lookup(self, code: str, prompt_id: str, source: str) -> Translation | None:
        """The translation of one prompt, or None where the catalog has none."""
        if code == SOURCE_LANGUAGE:
            return Translation(source, False)
        return self._entries.get(code, {}).get((prompt_id, source))


def suggest_language(profile: Profile, from_country: str | None,
                     from_number: str | None) -> str | None:
    """The profile language a caller's country suggests, if any.

    Twilio's FromCountry wins; otherwise the number's own prefix. A caller from the
    hotline's own country gets no suggestion: that says nothing about their language.
    """
    country = (from_country or "").strip().upper()
    if not country and from_number:
        try:
            number = phonenumbers.parse(from_number, None)
            country = phonenumbers.region_code_for_number(number) or ""
        except phonenumbers.NumberParseException:
            country = ""
    if not country or country == profile.country:
        return None
    for language in profile.languages.values():
        if country in language.countries:
            return language.code
    return None
