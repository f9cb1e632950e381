"""No character an operator pastes, a catalog holds or a texter sends can break a document."""

from __future__ import annotations

import logging
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.content.i18n import LOCALES_DIR, CatalogError, Catalogs
from ivr.content.profile import ProfileError
from ivr.content.profile_loader import load_profile
from ivr.content.safe_text import character_name, describe_problems, problems, xml_safe
from ivr.sms.channel import Outbound, Plan
from ivr.sms.views import as_twiml
from ivr.voice.state import CallState
from tests.conftest import PROFILES, twilio_post

MEASURED = ["\x0b", "\x0c", "\x1b", "\uffff"]  # what issue #22 pasted into approved texts


@pytest.mark.parametrize("char", [*MEASURED, "\x00", "\x7f", "\x85", "\u200b", "\ufeff",
                                  "\u2028", "\u2029", "\u00ad", "\ue000", "\U000e0041",
                                  "\ufdd0", "\U0010ffff", "\ud800"])
def test_a_character_with_no_business_in_a_prompt_is_named_with_its_place(char: str) -> None:
    found = problems(f"Bonjour{char} à tous", right_to_left=False)
    assert found == [f"{character_name(char)} at character 8"]
    assert character_name(char).startswith(f"U+{ord(char):04X} (")


def test_word_processors_soft_break_is_named_so_an_operator_recognises_it() -> None:
    assert describe_problems("a\x0bb") == (
        "The text holds a character that cannot be spoken or sent: U+000B (LINE TABULATION, "
        "a soft line break from a word processor) at character 2. Delete it (it may be "
        "invisible: retype the words around it).")


@pytest.mark.parametrize("text", ["Привіт, 113!", "Zhì 你好 👋🏽", "Tab\tand\nline",
                                  "فارسی\u200cها", "👩\u200d⚕️ nurse", "Ça va?"])
def test_what_languages_need_is_allowed(text: str) -> None:
    assert problems(text) == []


@pytest.mark.parametrize("mark", ["\u200e", "\u200f", "\u061c", "\u202b", "\u2066", "\u2069"])
def test_bidirectional_controls_only_in_a_right_to_left_language(mark: str) -> None:
    assert problems(f"اتصل بـ {mark}113", right_to_left=True) == []
    assert problems(f"Appelez le {mark}113", right_to_left=False) != []


def test_the_last_line_of_defence_strips_what_xml_forbids_and_says_so(
        caplog: pytest.LogCaptureFixture) -> None:
    assert xml_safe("fine text") == "fine text"
    assert xml_safe("a\x0bb\x1bc\uffffd\ud800e", "a relay") == "abcde"
    assert "removed 4 character(s) XML forbids from a relay" in caplog.text
    assert "abcde" not in caplog.text  # never the text: it may be a person's message


# --- every way in refuses, naming the character ---------------------------------------------


def test_a_catalog_with_a_control_character_stops_the_start_naming_the_line(
        tmp_path: Path) -> None:
    shutil.copytree(LOCALES_DIR / "fr", tmp_path / "fr")
    po = tmp_path / "fr" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("msgstr")
                and "Pour" in row)
    rows = text.splitlines()
    rows[line - 1] = rows[line - 1].replace("Pour", "Po\\vur", 1)
    po.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"messages\.po:\d+: msgctxt '[\w.]+': .*U\+000B"):
        Catalogs(["fr"], tmp_path)


def test_a_profile_with_an_escaped_control_character_stops_the_start_naming_the_line(
        tmp_path: Path) -> None:
    text = PROFILES["luxembourg"].read_text(encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace('label = "INFOTRAITE"', 'label = "INFO\\u000CTRAITE"', 1),
                      encoding="utf-8")
    with pytest.raises(ProfileError, match=r"broken\.toml:\d+: destinations\.infotraite\."
                                           r"label: .*U\+000C"):
        load_profile(broken)


# --- every way out stays well-formed, whatever is stored -----------------------------------


class Anything:
    """Published content that answers every prompt of every language with one text."""

    def __init__(self) -> None:
        self.text_now = ""

    def text(self, lang: str, prompt_id: str, source: str) -> str | None:
        return self.text_now

    def audio_url(self, lang: str, prompt_id: str, text: str) -> str | None:
        return None

    def wav(self, lang: str, name: str) -> bytes | None:
        return None


# Every category Unicode has, surrogates included (a lone one can reach a str from a file).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=80)


@pytest.fixture(scope="module")
def anything_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, Anything]:
    from ivr import create_app
    from ivr.storage.db import create_tables

    url = f"sqlite:///{tmp_path_factory.mktemp('any') / 'any.sqlite3'}"
    create_tables(url)
    app = create_app({"TESTING": True, "LOCAL_MODE": True,
                      "TWILIO_AUTH_TOKEN": "test-auth-token-0123456789abcdef",
                      "HOTLINE_PROFILE": str(PROFILES["luxembourg"]), "DATABASE_URL": url,
                      "PUBLIC_BASE_URL": "https://hotline.example.org",
                      "SECRET_KEY": "test-secret", "CONSOLE_ENABLED": False})
    anything = Anything()
    hotline = app.extensions["hotline"]
    hotline.prompter.published = anything
    return app, anything


PAGES = [("/voice", {}), ("/voice/language?p=1", {"Digits": "6"}),
         ("/voice/menu?l=uk&n=main", {"Digits": "2"}),
         ("/voice/menu?l=fr&n=main", {"Digits": "1"}),
         ("/voice/dialed?l=ar&d=infotraite&t=1", {"DialCallStatus": "busy"}),
         ("/voice/whisper?l=uk", {}), ("/voice/recorded?l=bg", {"RecordingDuration": "9"}),
         ("/voice/ring/wait?l=ro&d=infotraite&t=0&h=closed&c=ring-CAx-0",
          {"QueueTime": "0"}),
         ("/voice/ring/taken?l=uk", {"DialCallStatus": "no-answer"}),
         ("/voice/fallback", {}),
         ("/sms", {"Body": "HELP", "MessageSid": "SMhelp"}),
         ("/sms", {"Body": "ДОПОМОГА", "MessageSid": "SMuk"})]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=ANY_TEXT)
def test_every_prompt_renders_well_formed_whatever_its_text_holds(
        anything_app: tuple[Flask, Anything], text: str) -> None:
    app, anything = anything_app
    anything.text_now = text
    app.extensions["hotline"].engine.forget_rendered()
    client = app.test_client()
    for path, form in PAGES:
        if path == "/sms":
            form = {**form, "MessageSid": form["MessageSid"] + str(abs(hash(text)))}
        response = twilio_post(client, path, form)
        assert response.status_code == 200, (path, response.status_code)
        ET.fromstring(response.get_data(as_text=True))  # raises on a malformed document


@settings(max_examples=100, deadline=None)
@given(body=ANY_TEXT, answer=ANY_TEXT)
def test_a_relay_and_an_answer_are_well_formed_whatever_the_person_wrote(
        body: str, answer: str) -> None:
    plan = Plan(relays=[Outbound("+352621351884", f"#K7M2 [uk] {body}")], answer=answer)
    document = ET.fromstring(str(as_twiml(plan)))
    relay = document.find("Message")
    assert relay is not None and relay.get("to") == "+352621351884"
    assert (relay.text or "").startswith("#K7M2 [uk]")


def test_a_french_free_text_after_a_poisoned_ack_still_reaches_the_helpline(
        make_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Issue #22's measured loss: U+000B in French sms.ack.discreet made the document that
    also carries the relay unparseable. Now the relay goes out, and the log says why."""
    app: Flask = make_app("luxembourg")
    anything = Anything()
    anything.text_now = "Merci\x0b, message reçu. Urgence : %(emergency)s."
    real = app.extensions["hotline"].prompter.published

    class OnlyTheAck(Anything):
        def text(self, lang: str, prompt_id: str, source: str) -> str | None:
            if (lang, prompt_id) in (("fr", "sms.ack"), ("fr", "sms.ack.discreet")):
                return anything.text_now
            return real.text(lang, prompt_id, source) if real else None

    app.extensions["hotline"].prompter.published = OnlyTheAck()
    with caplog.at_level(logging.WARNING):
        response = twilio_post(app.test_client(), "/sms", {
            "Body": "Bonjour, on m'a pris mon passeport, aidez-moi", "MessageSid": "SMfr1"})
    document = ET.fromstring(response.get_data(as_text=True))
    relays = [m for m in document.iter("Message") if m.get("to")]
    assert relays, "the relay to the helpline is in the document"
    assert "removed 1 character(s) XML forbids from prompt sms.ack" in caplog.text


def test_the_state_in_a_url_is_never_text() -> None:
    """Call state carries short identifiers only: no prompt text travels in a URL."""
    assert CallState.from_query({"l": "fr\x0b", "n": "main"}).lang is None
