"""The console's own words in the operator's language: the gettext domain `console`.

Staff-facing strings live in locales/<lang>/LC_MESSAGES/console.po, apart from the
`messages` catalogs that callers hear (those go through the two-person prompt review).
Like the prompt catalogs, the .po files are read directly (fuzzy entries included: Albanian
and Serbian stay fuzzy until a native speaker reviews them), so no compile step is needed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_request_context
from flask_login import current_user
from markupsafe import Markup

from ivr.content.i18n import (
    CLDR_LOCALES,
    LOCALES_DIR,
    SOURCE_LANGUAGE,
    cldr_locale,
    language_name,
)

DOMAIN = "console"
# The message contexts of the names of prompts and menus: msgid is the id in the profile
# ("signs.control", "main"), msgstr what people call it ("Signs: control", "Main menu").
PROMPT_NAME_CONTEXT = "prompt name"
MENU_NAME_CONTEXT = "menu name"


def po_path(code: str, locales_dir: Path = LOCALES_DIR) -> Path:
    return locales_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def console_languages(locales_dir: Path = LOCALES_DIR) -> tuple[str, ...]:
    """The languages the console can be shown in: English and every console catalog."""
    found = {path.parent.parent.name for path in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return tuple([SOURCE_LANGUAGE] + sorted(found - {SOURCE_LANGUAGE}))


@cache
def translations(code: str, locales_dir: Path = LOCALES_DIR) -> NullTranslations:
    """One language's console catalog, read once from its .po (fuzzy entries used)."""
    path = po_path(code, locales_dir)
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=CLDR_LOCALES.get(code, code), domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=True)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def staff_language() -> str:
    """The console's language for an operator who chose none: the profile's staff language
    (the whisper's), unless the app's CONSOLE_LANGUAGE says otherwise (the tests: English)."""
    from ivr.voice.hotline import HOTLINE

    try:
        code = current_app.config.get("CONSOLE_LANGUAGE") or \
            HOTLINE.get().profile.staff_language
    except (LookupError, RuntimeError):
        return SOURCE_LANGUAGE
    return code if code in console_languages() else SOURCE_LANGUAGE


def current_language() -> str:
    """The signed-in operator's choice, else the profile's staff language (English outside
    a request, as for the CLI)."""
    if not has_request_context():
        return SOURCE_LANGUAGE
    if "console_language" not in g:
        chosen = getattr(current_user, "language", None)
        g.console_language = chosen if chosen in console_languages() else staff_language()
    return str(g.console_language)


def _catalog() -> NullTranslations:
    return translations(current_language())


def gettext(message: str, **variables: Any) -> str:
    """`message` in the operator's language, with %(name)s filled from `variables`."""
    text = _catalog().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, number: int, **variables: Any) -> str:
    """Singular or plural by `number`, as the language counts (pass num=... to fill it)."""
    text = _catalog().ngettext(singular, plural, number)
    return text % variables if variables else text


def pgettext(context: str, message: str, **variables: Any) -> str:
    text = str(_catalog().pgettext(context, message))
    return text % variables if variables else text


_ = gettext


def N_(message: str) -> str:  # noqa: N802  (gettext's name for "mark, translate later")
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def prompt_name(prompt_id: str) -> str:
    """A prompt as people call it ("Greeting"), from the console catalog; else its id."""
    return pgettext(PROMPT_NAME_CONTEXT, prompt_id)


def prompt_label(prompt_id: str) -> str:
    """A prompt's name with its id second, for a sentence: "Greeting (greeting)"."""
    name = prompt_name(prompt_id)
    return prompt_id if name == prompt_id else f"{name} ({prompt_id})"


def menu_name(name: str) -> str:
    """A menu node as people call it ("Main menu"), from the console catalog; else its name
    with spaces for underscores."""
    found = pgettext(MENU_NAME_CONTEXT, name)
    return found.replace("_", " ") if found == name else found


def when(moment: datetime | None, timezone: ZoneInfo, with_date: bool = True) -> str:
    """A moment in the hotline's time zone, named: "8 déc. 2026, 14:05 (Europe/Luxembourg)".

    Stored times are UTC (SQLite returns them without a zone).
    """
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    locale = cldr_locale(current_language())
    pattern = _minute_format(locale) if with_date else "HH:mm"
    shown = format_datetime(moment, pattern, tzinfo=timezone, locale=locale)
    return f"{shown} ({timezone.key})"


def hotline_time(moment: datetime | None, with_date: bool = True) -> str:
    """A moment in this hotline's time zone, named (the `when` filter of the templates)."""
    from ivr.voice.hotline import HOTLINE

    return when(moment, HOTLINE.get().profile.timezone, with_date)


@cache
def _minute_format(locale: Any) -> str:
    """The locale's medium date and short time, as one CLDR pattern (the medium date-time
    has seconds: a minute is enough for people)."""
    date = locale.date_formats["medium"].pattern
    time = locale.time_formats["short"].pattern
    return str(locale.datetime_formats["medium"]).replace("{1}", date).replace("{0}", time)


def init_app(app: Flask) -> None:
    """Jinja's i18n extension with the console's gettext; new style, so Jinja fills
    %(name)s itself, escaping the values (a literal percent sign is written %%)."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=gettext, ngettext=ngettext, pgettext=pgettext, newstyle=True)
    app.jinja_env.globals.update(prompt_name=prompt_name, console_language=current_language,
                                 state_word=state_word, language_label=language_label,
                                 language_in_itself=lambda code: language_name(code, code),
                                 staff_language=staff_language,
                                 console_languages=console_languages)
    app.jinja_env.filters["when"] = hotline_time
    app.jinja_env.filters["placeholder_code"] = lambda name: Markup(
        "<code>%({})s</code>").format(name)


# The words of the states pages show by their code (ivr.console.menu, progress, live).
STATE_WORDS = {
    "recording": N_("a person's recording"),
    "Twilio voice": N_("Twilio's voice"),
    "placeholder": N_("a robot placeholder"),
    "English": N_("English"),
    "current": N_("current"),
    "stale": N_("stale"),
    "missing": N_("missing"),
    "source": N_("source"),
    "approved": N_("approved"),
    "translated": N_("translated"),
    "fuzzy": N_("fuzzy"),
    "recorded": N_("recorded"),
    "synthesized": N_("synthesized"),
    "draft": N_("draft"),
    "replaced": N_("replaced"),
    "rejected": N_("rejected"),
    "restored": N_("restored"),
    "upload": N_("uploaded"),
    "browser": N_("recorded in the browser"),
    "phone": N_("recorded by phone"),
    "import": N_("imported"),
}


def state_word(code: str) -> str:
    """A state's word in the operator's language (the code itself when it has none)."""
    return gettext(STATE_WORDS[code]) if code in STATE_WORDS else code


def language_label(code: str) -> str:
    """A language's name in the operator's language, from CLDR."""
    return language_name(code, current_language())
