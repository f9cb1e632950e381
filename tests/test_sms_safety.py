"""SMS paths where a mistake reaches a person: opt-outs Twilio reports, duplicates, senders
that are no phone number. Every text below is written out as the person or helpline gets it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Clock
from tests.test_sms_support import (
    STAFF,
    STAFF_2,
    case_code,
    messages,
    send_sms,
    sms_app,
)

ACK_EN = ("Thank you, your message was received. We answer Monday to Friday 09:00-12:00 and "
          "13:00-17:00. Urgent: 113.")
HELP_EN = ("INFOTRAITE: +352 27 36 56 46, free, no need to give your name. "
           "Urgent: 113.")


def opted_out_fr(code: str) -> str:
    """What the helpline (staff language: French) reads when a case's sender opted out."""
    return f"Le dossier #{code} s'est désinscrit (STOP) : rien ne peut lui être envoyé."


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    return sms_app(make_app).test_client()


def open_case(client: FlaskClient) -> str:
    relays = messages(send_sms(client, "They took my phone yesterday"))
    code = case_code(relays[0][1])
    assert relays == [(STAFF, f"#{code} [en] They took my phone yesterday"),
                      (STAFF_2, f"#{code} [en] They took my phone yesterday"), (None, ACK_EN)]
    return code


# Twilio's OptOutType says it opted the sender out, whatever word our profile sees in the body
# (Advanced Opt-Out can be set to other words): the opt-out must hold.
@pytest.mark.parametrize("body", ["HELP", "POLICE", "HILFE", "LANGUAGES", "Please no more",
                                  "START"])
def test_twilios_stop_on_another_word_opts_out(client: FlaskClient, body: str) -> None:
    code = open_case(client)
    told = messages(send_sms(client, body, OptOutType="STOP"))
    assert told == [(STAFF, opted_out_fr(code)), (STAFF_2, opted_out_fr(code))]
    # The helpline's reply is refused, and the person's next words get no answer back.
    assert messages(send_sms(client, f"#{code} hello", from_=STAFF)) == [
        (None, opted_out_fr(code))]
    assert messages(send_sms(client, "I am still here")) == [
        (STAFF, f"#{code} [en] I am still here"), (STAFF_2, f"#{code} [en] I am still here")]


@pytest.mark.parametrize("opt_out_type", ["stop", " STOP ", "Stop"])
def test_twilios_stop_is_read_whatever_its_case(client: FlaskClient, opt_out_type: str) -> None:
    code = open_case(client)
    told = messages(send_sms(client, "HELP", OptOutType=opt_out_type))
    assert told == [(STAFF, opted_out_fr(code)), (STAFF_2, opted_out_fr(code))]


@pytest.mark.parametrize("body", ["POLICE", "HELP", "Hello again"])
def test_twilios_start_on_another_word_opts_back_in(client: FlaskClient, body: str) -> None:
    code = open_case(client)
    send_sms(client, "STOP")
    assert messages(send_sms(client, body, OptOutType="START")) == []  # Twilio answered
    assert messages(send_sms(client, f"#{code} welcome back", from_=STAFF)) == [
        ("+380501234567", "welcome back")]
    assert messages(send_sms(client, "I am back"))[-1] == (None, ACK_EN)


def test_twilios_help_on_a_plain_message_answers_nothing_and_relays_nothing(
        client: FlaskClient) -> None:
    open_case(client)
    assert messages(send_sms(client, "what now", OptOutType="HELP")) == []


def test_a_message_twilio_delivers_twice_is_handled_once(client: FlaskClient) -> None:
    first = messages(send_sms(client, "Where can I sleep tonight", sid="SM" + "1" * 32))
    code = case_code(first[0][1])
    assert first == [(STAFF, f"#{code} [en] Where can I sleep tonight"),
                     (STAFF_2, f"#{code} [en] Where can I sleep tonight"), (None, ACK_EN)]
    assert messages(send_sms(client, "Where can I sleep tonight", sid="SM" + "1" * 32)) == []
    # Another message is new, whatever its text.
    again = messages(send_sms(client, "Where can I sleep tonight", sid="SM" + "2" * 32))
    assert again == first


def test_a_staff_reply_delivered_twice_reaches_the_person_once(client: FlaskClient) -> None:
    code = open_case(client)
    sid = "SM" + "3" * 32
    assert messages(send_sms(client, f"#{code} We call you at 3", from_=STAFF, sid=sid)) == [
        ("+380501234567", "We call you at 3")]
    assert messages(send_sms(client, f"#{code} We call you at 3", from_=STAFF, sid=sid)) == []


@pytest.mark.parametrize("sender", ["garbage", "", "12345", "+", "INFO"])
def test_a_sender_that_is_no_phone_number_gets_nothing_and_reaches_nobody(
        client: FlaskClient, sender: str) -> None:
    assert messages(send_sms(client, "HELP", from_=sender)) == []
    assert messages(send_sms(client, "I need help", from_=sender)) == []


def test_a_keyword_gets_the_written_numbers(client: FlaskClient) -> None:
    assert messages(send_sms(client, "HELP")) == [(None, HELP_EN)]


def test_an_open_case_takes_the_language_of_the_last_keyword_for_an_unclear_text(
        client: FlaskClient) -> None:
    code = open_case(client)  # English
    send_sms(client, "AJUTOR")  # a Romanian keyword
    relays = messages(send_sms(client, "ok"))
    assert relays[0] == (STAFF, f"#{code} [ro] ok")
    assert relays[-1] == (None, "Multumim, mesajul a fost primit. Raspundem de luni până "
                                "vineri 09:00-12:00 și 13:00-17:00. Urgent: 113.")
    # A clear text after it is the sender's latest language (issue #23).
    relays = messages(send_sms(client, "They came back today"))
    assert relays[0] == (STAFF, f"#{code} [en] They came back today")


def test_a_case_in_use_does_not_expire(make_app: Callable[..., Flask], clock: Clock) -> None:
    app = sms_app(make_app)
    client = app.test_client()
    code = open_case(client)
    days = app.extensions["hotline"].profile.sms.case_expiry_days
    clock.now = clock.now + timedelta(days=days - 1)
    assert case_code(messages(send_sms(client, "Still waiting"))[0][1]) == code
    clock.now = clock.now + timedelta(days=2)  # past expiry from the first message only
    assert messages(send_sms(client, f"#{code} We call you now", from_=STAFF)) == [
        ("+380501234567", "We call you now")]
