"""Which language a sender is answered in when they cannot type their own script, or write
a few words: the keyword inside decides, and an unclear text gets two languages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from ivr.content.i18n import suggest_language
from ivr.content.profile_loader import load_profile
from tests.conftest import PROFILES
from tests.test_sms_support import messages, send_sms, sms_app

LU_MOBILE = "+352621987654"  # suggests no language: the hotline's own country


@pytest.fixture
def lu(make_app: Callable[..., Flask]) -> Flask:
    return sms_app(make_app)


def answer(app: Flask, body: str) -> str:
    replies = [text for to, text in messages(send_sms(app.test_client(), body, from_=LU_MOBILE))
               if to is None]
    assert len(replies) == 1
    return replies[0]


def test_a_transliterated_keyword_is_answered_in_its_language(lu: Flask) -> None:
    assert "+352 27 36 56 46" in answer(lu, "DOPOMOHA")
    assert answer(lu, "dopomoha") == answer(lu, "ДОПОМОГА")
    assert answer(lu, "POMOSHCH") == answer(lu, "ПОМОЩЬ")
    assert answer(lu, "مساعده") == answer(lu, "مساعدة")
    assert answer(lu, "幫助") == answer(lu, "帮助")


def test_a_keyword_inside_a_short_text_decides_the_acknowledgement(lu: Flask) -> None:
    assert answer(lu, "help pls").startswith("Thank you")
    assert answer(lu, "Hilfe bitte").startswith("Danke")


def test_an_unclear_text_is_acknowledged_briefly_in_french_and_english(lu: Flask) -> None:
    assert answer(lu, "ok") == ("Merci, message reçu. Urgence : 113.\n"
                                "Thank you, message received. Urgent: 113.")


def test_a_later_unclear_text_keeps_the_language_the_case_already_has(lu: Flask) -> None:
    client = lu.test_client()
    send_sms(client, "They took my passport and I cannot leave", from_=LU_MOBILE)
    [(_, ack)] = messages(send_sms(client, "ok", from_=LU_MOBILE))[-1:]
    assert ack.startswith("Thank you, your message was received.")


# --- Kosovo: the languages of the victims the article names -----------------------------

KOSOVO = load_profile(PROFILES["kosovo"])


@pytest.mark.parametrize(("country", "language"),
                         [("MD", "ro"), ("RO", "ro"), ("BG", "bg"), ("UA", "uk"), ("RU", "ru"),
                          ("RS", "sr"), ("AL", "sq"), ("XK", None)])
def test_kosovo_suggests_the_language_of_the_callers_country(country: str,
                                                             language: str | None) -> None:
    assert suggest_language(KOSOVO, country, None) == language


def test_kosovo_offers_seven_languages_on_one_page() -> None:
    assert [(lang.code, lang.key) for lang in KOSOVO.language_page(1)] == [
        ("sq", "1"), ("sr", "2"), ("en", "3"), ("ro", "4"), ("bg", "5"), ("uk", "6"),
        ("ru", "7")]
    assert KOSOVO.language_pages == [1]
    text = PROFILES["kosovo"].read_text(encoding="utf-8")
    assert "Considered and left out" in text and "Romani" in text


# --- the latest text decides ------------------------------------------------------------

UKRAINIAN_TEXT = "Мені потрібна допомога, забрали паспорт"


@pytest.mark.parametrize("opt_out_type", ["", "HELP"])  # HELP answered by us, or by Twilio
def test_a_text_after_help_is_acknowledged_in_its_own_language(lu: Flask,
                                                               opt_out_type: str) -> None:
    """HELP (English) first, then a Ukrainian text: the acknowledgement and the staff's tag
    follow the text, as they would for a sender who never wrote HELP."""
    client = lu.test_client()
    fresh = messages(send_sms(client, UKRAINIAN_TEXT, from_="+352621987001"))
    [fresh_ack] = [text for to, text in fresh if to is None]
    sender = "+352621987002" if opt_out_type else "+352621987003"
    extra = {"OptOutType": opt_out_type} if opt_out_type else {}
    send_sms(client, "HELP", from_=sender, **extra)
    after_help = messages(send_sms(client, UKRAINIAN_TEXT, from_=sender))
    relays = [text for to, text in after_help if to is not None]
    [ack] = [text for to, text in after_help if to is None]
    assert relays and all(" [uk] " in text for text in relays)
    assert ack == fresh_ack and not ack.startswith("Thank you")
