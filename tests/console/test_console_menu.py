"""The menu page and reviews: states per language, filters, review records, apply-reviews."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.console.accounts import add_operator
from ivr.console.menu import (
    FUZZY,
    MISSING,
    RECORDED,
    STALE,
    TRANSLATED,
    PromptUse,
    menu_tree,
    not_ready,
    prompt_view,
    text_direction,
)
from ivr.console.models import Review
from ivr.console.store import session_scope
from ivr.content import i18n
from ivr.content.audio import AudioLibrary, text_hash
from ivr.content.i18n import Catalogs
from ivr.content.profile_loader import load_profile
from ivr.content.speech import Prompter
from ivr.voice.engine import Engine
from ivr.voice.hotline import Hotline, prepare_fallback
from tests.conftest import PROFILES
from tests.console.conftest import OPERATOR, console_post, sign_in

PROFILE = load_profile(PROFILES["luxembourg"])
UK_TALK = "%(hotline)s — щоб поговорити зараз, натисніть %(key)s."
UK_SIGNS = "Щоб почути ознаки торгівлі людьми, натисніть %(key)s."
AR_TALK = "للتحدث مع %(hotline)s الآن، اضغط %(key)s."


def write_catalog(locales: Path, lang: str, entries: dict[str, tuple[str, bool]]) -> Path:
    """A messages.po for one language: prompt id -> (translation, fuzzy)."""
    catalog = Catalog(locale=lang)
    for prompt_id, (text, fuzzy) in entries.items():
        catalog.add(PROFILE.prompt_text(prompt_id), text, context=prompt_id,
                    flags=["fuzzy"] if fuzzy else [])
    path = locales / lang / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)
    return path


def write_audio(root: Path, files: list[tuple[str, str, str, str]]) -> None:
    """A manifest and (empty) files: (lang, prompt id, text the file speaks, source)."""
    lines = []
    for lang, prompt_id, text, source in files:
        (root / lang).mkdir(parents=True, exist_ok=True)
        (root / lang / f"{prompt_id}.wav").write_bytes(b"RIFF")
        lines += ["[[files]]", f'lang = "{lang}"', f'prompt = "{prompt_id}"',
                  f'sha256 = "{text_hash(text)}"', f'source = "{source}"', "duration = 1.0",
                  ""]
    (root / "manifest.toml").write_text("\n".join(lines), encoding="utf-8")


def build(locales: Path, prompts: Path) -> Hotline:
    catalogs = Catalogs(list(PROFILE.languages), locales)
    audio = AudioLibrary(prompts)
    prompter = Prompter(PROFILE, catalogs, audio)
    return Hotline(PROFILE, catalogs, audio, prompter, Engine(PROFILE, prompter, "/voice"),
                   prepare_fallback(PROFILE, prompter))


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    root = tmp_path / "locales"
    write_catalog(root, "uk", {"main.talk": (UK_TALK, False), "main.signs": (UK_SIGNS, True)})
    write_catalog(root, "ar", {"main.talk": (AR_TALK, False)})
    return root


@pytest.fixture
def hotline(locales: Path, tmp_path: Path) -> Hotline:
    prompts = tmp_path / "prompts"
    write_audio(prompts, [
        ("uk", "main.talk", UK_TALK.replace("%(hotline)s", "INFOTRAITE").replace("%(key)s", "1"),
         "recorded"),
        ("uk", "main.signs", "an older wording", "synthesized"),
    ])
    return build(locales, prompts)


@pytest.fixture
def page_app(console_app: Flask, hotline: Hotline, locales: Path,
             monkeypatch: pytest.MonkeyPatch) -> Flask:
    console_app.extensions["hotline"] = hotline
    monkeypatch.setattr(i18n, "LOCALES_DIR", locales)
    return console_app


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_the_tree_shows_every_prompt_a_caller_can_hear(name: str) -> None:
    profile = load_profile(PROFILES[name])
    tree = menu_tree(profile)
    shown = {use.prompt_id for item in tree for use in item.prompts}
    assert shown == set(profile.all_prompt_ids())
    names = [item.name for item in tree]
    assert set(profile.nodes) <= set(names)
    assert names.index(profile.start_node) == 1  # right after the language menu


def test_states_of_a_prompt_per_language(hotline: Hotline) -> None:
    talk = prompt_view(hotline, "uk", PromptUse("main.talk", key="1"))
    assert (talk.translation, talk.audio, talk.lang_used) == (TRANSLATED, RECORDED, "uk")
    assert talk.audio_url and talk.audio_url.startswith("/prompts/uk/main.talk.wav")
    assert talk.text == "INFOTRAITE — щоб поговорити зараз, натисніть 1." and talk.ready
    signs = prompt_view(hotline, "uk", PromptUse("main.signs", key="2"))
    assert (signs.translation, signs.audio) == (FUZZY, STALE)
    assert signs.audio_url is None and signs.voice  # Twilio's Ukrainian voice speaks it
    assert signs.problems == ["translation not reviewed", "recording is stale"]
    kinds = prompt_view(hotline, "uk", PromptUse("main.kinds", key="3"))
    assert (kinds.translation, kinds.audio, kinds.lang_used) == (MISSING, MISSING, "en")
    assert "translation missing" in kinds.problems
    arabic = prompt_view(hotline, "ar", PromptUse("main.talk", key="1"))
    assert arabic.direction == "rtl" and arabic.lang_used == "ar"
    assert text_direction("uk") == "ltr"
    # A review of exactly this text makes a fuzzy translation ready (the audio aside).
    reviewed = prompt_view(hotline, "uk", PromptUse("main.signs", key="2"),
                           {("uk", "main.signs"): {signs.review_hash}})
    assert reviewed.reviewed and reviewed.problems == ["recording is stale"]
    missing = {view.prompt_id for view in not_ready(hotline, "uk", menu_tree(PROFILE))}
    assert "main.talk" not in missing and {"main.signs", "main.kinds"} <= missing


def test_menu_page_shows_both_languages_badges_and_audio(page_app: Flask,
                                                         console: FlaskClient) -> None:
    page = console.get("/console/menu?lang=uk&ref=ar").get_data(as_text=True)
    assert 'lang="uk" dir="ltr">INFOTRAITE — щоб поговорити' in page
    assert 'lang="ar" dir="rtl">للتحدث مع INFOTRAITE' in page
    for badge in ("translated", "fuzzy (not reviewed)", "translation missing", "recorded",
                  "audio stale", "spoken by Twilio's voice en-GB Polly.Amy"):
        assert badge in page, badge
    assert '<audio controls preload="none" src="/prompts/uk/main.talk.wav?v=' in page
    assert "Twilio's voice <code>uk-UA" in page
    assert "<svg" in page and 'role="img"' in page
    assert '<html lang="en">' in page


def test_not_ready_filter(page_app: Flask, console: FlaskClient) -> None:
    page = console.get("/console/menu?lang=uk&show=not-ready").get_data(as_text=True)
    assert 'id="p-main-main.signs"' in page
    assert 'id="p-main-main.talk"' not in page
    assert "not ready in Ukrainian" in page
    unknown = console.get("/console/menu?lang=xx&ref=../../etc")
    assert unknown.status_code == 200  # an unknown language falls back, never a 500


def test_review_is_recorded_and_reopens_when_the_text_changes(
        page_app: Flask, console: FlaskClient, locales: Path, tmp_path: Path) -> None:
    page = "/console/menu?lang=uk"
    response = console_post(console, page, "/console/review", {
        "lang": "uk", "prompt": "main.signs", "verdict": "reviewed", "comment": "",
        "back": page})
    assert response.status_code == 302
    with page_app.app_context(), session_scope() as db:
        review = db.scalar(select(Review))
        assert review is not None
        assert (review.lang, review.prompt_id, review.verdict) == ("uk", "main.signs",
                                                                   "reviewed")
        assert review.operator.name == OPERATOR and review.at is not None
        assert len(review.text_hash) == 64
    shown = console.get(page).get_data(as_text=True)
    assert "fuzzy, reviewed" in shown
    assert 'id="p-main-main.signs"' not in console.get(page + "&show=not-ready").get_data(
        as_text=True) or "recording is stale" in shown
    # Someone rewrites the translation: the review no longer covers it.
    write_catalog(locales, "uk", {"main.talk": (UK_TALK, False),
                                  "main.signs": (UK_SIGNS + " ", True)})
    page_app.extensions["hotline"] = build(locales, tmp_path / "prompts")
    assert "fuzzy (not reviewed)" in console.get(page).get_data(as_text=True)


def test_review_refuses_a_changed_text_and_unknown_prompts(page_app: Flask,
                                                           console: FlaskClient) -> None:
    page = "/console/menu?lang=uk"
    stale = console_post(console, page, "/console/review", {
        "lang": "uk", "prompt": "main.signs", "verdict": "reviewed", "hash": "0" * 64},
        follow_redirects=True)
    assert "The text changed" in stale.get_data(as_text=True)
    for data in ({"lang": "uk", "prompt": "no.such", "verdict": "reviewed"},
                 {"lang": "en", "prompt": "main.talk", "verdict": "reviewed"},
                 {"lang": "uk", "prompt": "main.kinds", "verdict": "reviewed"},
                 {"lang": "uk", "prompt": "main.talk", "verdict": "comment"}):
        assert console_post(console, page, "/console/review", data).status_code == 302
    with page_app.app_context(), session_scope() as db:
        assert db.scalar(select(Review)) is None
    comment = console_post(console, page, "/console/review", {
        "lang": "uk", "prompt": "main.talk", "verdict": "comment",
        "comment": "Say 'безкоштовно' too", "back": page}, follow_redirects=True)
    assert "Say &#39;безкоштовно&#39; too" in comment.get_data(as_text=True)


def test_apply_reviews_clears_fuzzy_through_babel(page_app: Flask, console: FlaskClient,
                                                  locales: Path) -> None:
    write_catalog(locales, "uk", {"main.talk": (UK_TALK, True), "main.signs": (UK_SIGNS, True)})
    page_app.extensions["hotline"] = build(locales, locales.parent / "prompts")
    console_post(console, "/console/menu?lang=uk", "/console/review",
                 {"lang": "uk", "prompt": "main.signs", "verdict": "reviewed"})
    download = console.get("/console/reviews/uk.po")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    from ivr.cli.main import main

    result = page_app.test_cli_runner().invoke(
        main, args=["i18n", "apply-reviews", "--lang", "uk", "--locales", str(locales)])
    assert result.exit_code == 0, result.output
    assert "uk: 1 reviewed" in result.output
    with (locales / "uk" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    signs = catalog.get(PROFILE.prompt_text("main.signs"), context="main.signs")
    talk = catalog.get(PROFILE.prompt_text("main.talk"), context="main.talk")
    assert signs is not None and not signs.fuzzy and signs.string == UK_SIGNS
    assert talk is not None and talk.fuzzy  # not reviewed: stays fuzzy
    assert console.get("/console/reviews/xx.po").status_code == 404


def test_review_page_lists_waiting_reviewed_and_reopened(page_app: Flask, console: FlaskClient,
                                                         locales: Path, tmp_path: Path) -> None:
    page = "/console/reviews?lang=uk"
    before = console.get(page).get_data(as_text=True)
    # main.talk's catalog entry is not fuzzy: reviewed already, as Overview and Script say.
    assert "<strong>1</strong> waiting for review" in before
    assert 'id="r-main.signs"' in before and 'id="r-main.kinds"' not in before
    assert ('Main menu: kinds of exploitation <code class="prompt-id">main.kinds</code>: '
            "To hear about kinds") in before  # not translated yet, named as staff say it
    console_post(console, page, "/console/review",
                 {"lang": "uk", "prompt": "main.signs", "verdict": "reviewed", "back": page})
    after = console.get(page).get_data(as_text=True)
    assert "<strong>0</strong> waiting for review" in after
    reviewed = after[after.index('id="reviewed"'):after.index('id="missing"')]
    assert "main.signs" in reviewed and f"<td>{OPERATOR}</td>" in reviewed
    write_catalog(locales, "uk", {"main.talk": (UK_TALK, False),
                                  "main.signs": (UK_SIGNS.replace("ознаки", "прикмети"), True)})
    page_app.extensions["hotline"] = build(locales, tmp_path / "prompts")
    reopened = console.get(page).get_data(as_text=True)
    assert f"reopened: the text changed after {OPERATOR}" in reopened
    assert console.get("/console/reviews?lang=en").status_code == 200  # falls back, no 500


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_page_renders_for_every_profile(make_app: Callable[..., Flask], name: str) -> None:
    app = make_app(name)
    with app.app_context(), session_scope() as db:
        add_operator(db, OPERATOR, "a passphrase for this test")
    client = app.test_client()
    assert sign_in(client, OPERATOR, "a passphrase for this test").status_code == 302
    profile = app.extensions["hotline"].profile
    for lang in profile.languages:
        for url in (f"/console/menu?lang={lang}&show=not-ready", f"/console/script?lang={lang}",
                    f"/console/reviews?lang={lang}"):
            response = client.get(url)
            assert response.status_code == 200, url
            # The hotline's name as that language says it (Kosovo's is translated).
            name = app.extensions["hotline"].prompter.params(lang)["hotline"]
            page = response.get_data(as_text=True)
            assert profile.name in page or name in page or "Review" in url
    started = console_post(client, "/console/try", "/console/try", {"command": "start"})
    assert started.status_code == 200 and "Now: language menu" in started.get_data(as_text=True)


LB_TALK = "Fir elo mat %(hotline)s ze schwätzen, dréckt %(key)s."
LB_SIGNS = "Fir Zeeche vu Mënschenhandel ze héieren, dréckt %(key)s."
LB_OPTION = "Fir Lëtzebuergesch, dréckt %(key)s."


@pytest.fixture
def lb_app(console_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """Luxembourgish (no Twilio voice) and Ukrainian (a voice), fuzzy translations; lb has a
    synthesized file for main.talk only."""
    root = tmp_path / "locales"
    write_catalog(root, "lb", {"main.talk": (LB_TALK, True), "main.signs": (LB_SIGNS, True),
                               "language.option": (LB_OPTION, True)})
    write_catalog(root, "uk", {"main.talk": (UK_TALK, True)})
    prompts = tmp_path / "prompts"
    write_audio(prompts, [("lb", "main.talk", LB_TALK.replace("%(hotline)s", "INFOTRAITE")
                           .replace("%(key)s", "1"), "synthesized")])
    console_app.extensions["hotline"] = build(root, prompts)
    monkeypatch.setattr(i18n, "LOCALES_DIR", root)
    return console_app


def status_of(page: str, anchor: str) -> str:
    """The 'what the caller hears' line of one prompt on the Menu page."""
    article = page[page.index(f'id="{anchor}"'):]
    article = article.split('<details class="prompt"', 1)[0]  # up to the next prompt
    found = re.search(r'<p class="note heard-as">(.*?)</p>', article, re.S)
    assert found, article
    return found.group(1)


def test_menu_says_what_a_luxembourgish_caller_really_hears(lb_app: Flask,
                                                            console: FlaskClient) -> None:
    page = console.get("/console/menu?lang=lb&ref=uk").get_data(as_text=True)
    # A fuzzy translation with a synthesized file: the file, not English.
    assert status_of(page, "p-main-main.talk") == (
        "Luxembourgish callers hear the synthesized file lb/main.talk.wav (a placeholder "
        "until someone records it).")
    # A fuzzy translation, no file, no Twilio voice for lb: English, and why.
    assert status_of(page, "p-main-main.signs") == (
        "Translated, but no Luxembourgish audio file and no Twilio voice for Luxembourgish: "
        "the caller hears this in English, after the notice that English follows.")
    # No translation at all.
    assert status_of(page, "p-main-main.kinds") == (
        "No translation: the caller hears this in English.")
    # The language menu names Luxembourgish in English where it has no audio.
    assert status_of(page, "p-languages-language.option") == (
        "Translated, but no Luxembourgish audio file and no Twilio voice for Luxembourgish: "
        "the language menu names Luxembourgish in English instead.")
    # Never said to a Luxembourgish caller: lb suggests itself to no country, so the
    # greeting is in French; the whisper is for the staff; sms.* are text messages.
    assert status_of(page, "p-languages-greeting") == (
        "Not heard in Luxembourgish: the call flow never says this to Luxembourgish callers.")
    assert status_of(page, "p-elsewhere-whisper") == (
        "Not heard in Luxembourgish: only the helpline&#39;s staff hear it.")
    assert status_of(page, "p-elsewhere-sms.numbers") == (
        "Not heard in Luxembourgish: it is a text message, never said in a call.")
    assert status_of(page, "p-elsewhere-hours.days") == (
        "Not heard on its own: it is said inside other prompts.")


def test_menu_says_what_a_ukrainian_caller_really_hears(lb_app: Flask,
                                                        console: FlaskClient) -> None:
    page = console.get("/console/menu?lang=uk&ref=lb").get_data(as_text=True)
    assert status_of(page, "p-main-main.talk") == (
        "No current recording: Twilio's voice <code>uk-UA Google.uk-UA-Standard-A</code> "
        "speaks this text.")
    assert status_of(page, "p-languages-greeting") == (
        "No translation: the caller hears this in English.")  # uk suggests itself (UA)
    assert status_of(page, "p-elsewhere-language.english_follows") == (
        "Not heard in Ukrainian: the call flow never says this to Ukrainian callers.")


def test_script_says_what_a_luxembourgish_caller_really_hears(lb_app: Flask,
                                                              console: FlaskClient) -> None:
    page = console.get("/console/script?lang=lb").get_data(as_text=True)
    assert ("fuzzy; audio synthesized<br><span class=\"heard-as\">Luxembourgish callers hear "
            "the synthesized file lb/main.talk.wav (a placeholder until someone records it)."
            "</span>") in page
    assert ("Translated, but no Luxembourgish audio file and no Twilio voice for "
            "Luxembourgish: the caller hears this in English") in page
    assert "Not heard in Luxembourgish: the call flow never says this" in page
    assert "English for now" not in page
