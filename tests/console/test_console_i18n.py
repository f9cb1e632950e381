"""The console in the staff's language: its own gettext domain, complete catalogs, each
operator's choice, times in the hotline's zone, prompts by the names people use."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from ivr.cli.i18n import PROJECT_DIR, compile_command, extract_command, po_path, template_of
from ivr.cli.main import main
from ivr.console.accounts import add_operator
from ivr.console.i18n import (
    MENU_NAME_CONTEXT,
    PROMPT_NAME_CONTEXT,
    console_languages,
    when,
)
from ivr.console.models import Operator
from ivr.console.store import session_scope
from ivr.content.i18n import CLDR_LOCALES, LOCALES_DIR
from ivr.content.profile_loader import load_profile
from tests.console.conftest import OPERATOR, PASSWORD, console_post, sign_in

TEMPLATES = Path(__file__).resolve().parents[2] / "ivr" / "console" / "templates" / "console"
PROFILES = sorted((PROJECT_DIR / "ivr" / "profiles").glob("*.toml"))
COMPLETE = ("en", "fr")  # reviewed: no fuzzy entry, no empty translation
FOR_REVIEW = ("sq", "sr")  # Kosovo's: complete, every entry fuzzy until a native speaker reads it
LUXEMBOURG = ZoneInfo("Europe/Luxembourg")


def read(path: Path, code: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=CLDR_LOCALES.get(code, code) if code else None)


def keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {(message.context, str(message.id)) for message in catalog if message.id}


# --- the catalogs ----------------------------------------------------------------------

TRANS_BLOCK = re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", re.S)
JINJA = re.compile(r"{#.*?#}|{{.*?}}|{%.*?%}", re.S)
WORDY_ATTRIBUTE = re.compile(r'\b(aria-label|title|alt|placeholder)="([^"]*)"')
TAG = re.compile(r"<[^>]*>", re.S)
LETTER = re.compile(r"[^\W\d_]")


def literal_words(source: str) -> list[str]:
    """Words a template writes outside gettext: text between tags and in the attributes a
    person reads (aria-label, title, alt, placeholder), once every {{ }}, {% %} and
    {% trans %} block is taken out."""
    plain = JINJA.sub("\x00", TRANS_BLOCK.sub("\x00", source))
    found = [f"{name}={value!r}" for name, value in WORDY_ATTRIBUTE.findall(plain)
             if LETTER.search(value)]
    found += [text.strip() for text in TAG.sub(" ", plain).split("\x00") if LETTER.search(text)]
    return found


def test_the_literal_word_finder_finds_words() -> None:
    assert literal_words('<p class="x">Hello {{ name }}</p>') == ["Hello"]
    assert literal_words('<audio aria-label="Take of {{ when }}">') == [
        "aria-label='Take of \\x00'"]
    assert literal_words('<p>{{ _("Hello") }}: {{ n }} →</p>{% trans %}Hi{% endtrans %}') == []


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_no_template_writes_a_word_outside_gettext(template: Path) -> None:
    assert literal_words(template.read_text(encoding="utf-8")) == []


def test_console_template_is_up_to_date_with_the_code_templates_and_profiles(
        tmp_path: Path) -> None:
    fresh = tmp_path / "console.pot"
    result = subprocess.run(extract_command(fresh, domain="console"), cwd=PROJECT_DIR,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert keys(read(fresh)) == keys(read(template_of("console"))), \
        "run: ivr i18n extract && ivr i18n update"


def test_every_prompt_and_menu_of_every_profile_has_a_name_to_translate() -> None:
    template = keys(read(template_of("console")))
    for path in PROFILES:
        profile = load_profile(path)
        assert {(PROMPT_NAME_CONTEXT, pid) for pid in profile.all_prompt_ids()} <= template
        assert {(MENU_NAME_CONTEXT, name) for name in profile.nodes} <= template


def test_console_words_stay_out_of_the_callers_catalogs() -> None:
    """Two domains: nothing of the console reaches the prompt review, and back."""
    console = keys(read(template_of("console")))
    messages = keys(read(template_of("messages")))
    assert ("", "Overview") not in messages and (None, "Overview") in console
    assert not {context for context, _ in console} & {context for context, _ in messages
                                                      if context}


@pytest.mark.parametrize("code", COMPLETE + FOR_REVIEW)
def test_console_catalog_has_every_message_translated(code: str) -> None:
    template = read(template_of("console"))
    catalog = read(po_path(code, domain="console"), code)
    assert keys(catalog) == keys(template)
    empty = [message.id for message in catalog if message.id and (
        not message.string or isinstance(message.string, tuple) and not all(message.string))]
    assert empty == []
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    if code in COMPLETE:
        assert fuzzy == []
    else:
        assert len(fuzzy) == len(keys(template))


@pytest.mark.parametrize("code", COMPLETE + FOR_REVIEW)
def test_console_catalog_compiles_with_pybabel(code: str, tmp_path: Path) -> None:
    output = tmp_path / "console.mo"
    result = subprocess.run(compile_command(code, output, domain="console"), cwd=PROJECT_DIR,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    total = len(keys(read(template_of("console"))))
    assert output.stat().st_size > 0
    assert f"{total} of {total} messages (100%) translated" in result.stderr + result.stdout


def test_console_status_counts_the_console_catalogs() -> None:
    result = CliRunner().invoke(main, ["i18n", "status", "--domain", "console"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: [int(n) for n in line.split()[1:4]]
            for line in result.output.splitlines()[1:]}
    total = len(keys(read(template_of("console"))))
    assert rows == {"en": [total, 0, 0], "fr": [total, 0, 0], "sq": [0, total, 0],
                    "sr": [0, total, 0]}


def test_the_console_speaks_english_and_each_console_catalog() -> None:
    assert console_languages() == ("en", "fr", "sq", "sr")
    assert all(po_path(code, LOCALES_DIR, "console").exists() for code in ("fr", "sq", "sr"))


# --- each operator's language ------------------------------------------------------------


@pytest.fixture
def staff_app(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """An app whose console speaks as the profile says (no CONSOLE_LANGUAGE), one operator."""

    def build(profile: str = "luxembourg") -> Flask:
        app = make_app(profile, CONSOLE_LANGUAGE=None)
        with app.app_context(), session_scope() as db:
            add_operator(db, OPERATOR, PASSWORD)
        return app

    return build


def page_of(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_console_starts_in_the_profiles_staff_language(
        staff_app: Callable[..., Flask]) -> None:
    client = staff_app("luxembourg").test_client()  # staff_language = "fr"
    login = page_of(client, "/console/login")
    assert '<html lang="fr">' in login and "Se connecter" in login
    assert sign_in(client).status_code == 302
    overview = page_of(client, "/console/")
    assert "Vue d'ensemble" in overview and ">Overview<" not in overview
    assert "Langue de l'équipe (français)" in overview


def test_kosovo_staff_read_albanian_by_default(staff_app: Callable[..., Flask]) -> None:
    client = staff_app("kosovo").test_client()  # staff_language = "sq"
    assert sign_in(client).status_code == 302
    menu = page_of(client, "/console/menu")
    assert '<html lang="sq">' in menu and ">Menyja</h1>" in menu


def test_an_operator_picks_a_language_and_keeps_it(staff_app: Callable[..., Flask]) -> None:
    app = staff_app("luxembourg")
    client = app.test_client()
    sign_in(client)
    chosen = console_post(client, "/console/menu", "/console/language",
                          {"language": "sq", "back": "/console/menu"})
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith("/console/menu")
    assert ">Menyja</h1>" in page_of(client, "/console/menu")
    with app.app_context(), session_scope() as db:
        stored = db.query(Operator).filter_by(name=OPERATOR).one()
        assert stored.language == "sq"
    other = app.test_client()  # another browser of the same operator
    sign_in(other)
    assert '<html lang="sq">' in page_of(other, "/console/")
    # Back to the staff language (empty choice), and a language the console lacks refused.
    console_post(other, "/console/", "/console/language", {"language": "", "back": "/console/"})
    assert '<html lang="fr">' in page_of(other, "/console/")
    refused = console_post(other, "/console/", "/console/language",
                           {"language": "tlh", "back": "/console/"})
    assert refused.status_code == 302
    shown = page_of(other, "/console/")
    assert "Cette langue n&#39;est pas disponible" in shown and '<html lang="fr">' in shown


def test_the_language_form_goes_back_only_to_a_console_page(
        staff_app: Callable[..., Flask]) -> None:
    client = staff_app().test_client()
    sign_in(client)
    answer = console_post(client, "/console/", "/console/language",
                          {"language": "en", "back": "https://elsewhere.example/"})
    assert answer.headers["Location"].endswith("/console/menu")


# --- times and names -----------------------------------------------------------------------


def test_a_time_is_shown_in_the_hotlines_zone_and_names_it(app: Flask) -> None:
    moment = datetime(2026, 12, 8, 13, 5, tzinfo=UTC)  # winter: UTC+1 in Luxembourg
    with app.test_request_context():
        assert when(moment, LUXEMBOURG) == "Dec 8, 2026, 2:05\u202fPM (Europe/Luxembourg)"
        assert when(moment, LUXEMBOURG, with_date=False) == "14:05 (Europe/Luxembourg)"
        # SQLite hands stored times back without a zone: they are UTC.
        assert when(moment.replace(tzinfo=None), ZoneInfo("Europe/Belgrade"),
                    with_date=False) == "14:05 (Europe/Belgrade)"
        summer = datetime(2026, 7, 1, 13, 5, tzinfo=UTC)
        assert when(summer, LUXEMBOURG, with_date=False) == "15:05 (Europe/Luxembourg)"


def test_pages_show_times_with_their_zone(staff_app: Callable[..., Flask]) -> None:
    client = staff_app("luxembourg").test_client()
    sign_in(client)
    page = page_of(client, "/console/prompts/fr/main.signs")
    text = re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', page, re.S)
    assert text
    saved = console_post(client, "/console/prompts/fr/main.signs",
                         "/console/prompts/fr/main.signs",
                         {"text": text.group(1).replace("&#39;", "'") + " ", "action": "save"})
    assert saved.status_code == 302
    page = page_of(client, "/console/prompts/fr/main.signs")
    assert re.search(r"Par ana, \d{1,2} \w+\.? 20\d\d, \d\d:\d\d \(Europe/Luxembourg\)", page)
    assert " UTC" not in page
    script = page_of(client, "/console/script?lang=fr")
    assert "(Europe/Luxembourg)" in script


def test_prompts_are_named_as_people_say_them_with_the_id_second(
        staff_app: Callable[..., Flask]) -> None:
    client = staff_app("luxembourg").test_client()
    sign_in(client)
    page = page_of(client, "/console/prompts/fr")
    assert 'Accueil <code class="prompt-id">greeting</code>' in page
    assert 'Signes : contrôle et dépendance <code class="prompt-id">signs.control</code>' in page
    menu = page_of(client, "/console/menu")
    assert 'class="node-title">Principal</span>' in menu


def test_a_prompt_without_a_name_shows_its_id(app: Flask) -> None:
    from ivr.console.i18n import menu_name, prompt_name

    with app.test_request_context():
        assert prompt_name("greeting") == "Greeting"
        assert prompt_name("no.such.prompt") == "no.such.prompt"
        assert menu_name("police_closed") == "police closed"
        assert menu_name("no_such_menu") == "no such menu"
