"""The numbers by text message: only to a caller number that can receive one."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr.voice.engine import can_receive_sms
from ivr.voice.simulate import parse_twiml
from tests.conftest import HOTLINE, twilio_post


@pytest.mark.parametrize(("number", "expected"), [
    ("+380501234567", True),    # a Ukrainian mobile
    ("+352621123456", True),    # a Luxembourg mobile
    ("+447700900123", False),   # UK drama range: not a number in service
    ("+35227365646", False),    # a Luxembourg landline
    ("+35280012345", False),    # a Luxembourg freephone number
    # What cannot be parsed cannot receive a text: no attempt, the caller hears the numbers.
    ("", False), ("anonymous", False), ("Restricted", False), ("266696687", False),
    ("+", False), ("+0", False), ("client:alice", False),
])
def test_can_receive_sms(number: str, expected: bool) -> None:
    assert can_receive_sms(number) is expected


SMS_FAILED_EN = ("We could not send a text message. The helpline's number is 0 0 3 5 2, 2 7, "
                 "3 6, 5 6, 4 6.")


@pytest.mark.parametrize("caller", ["anonymous", "", "+35227000000"])
def test_a_caller_number_that_cannot_get_a_text_is_not_sent_one(
        app: Flask, client: FlaskClient, caller: str) -> None:
    outbox = app.extensions["sms_sender"]
    step = parse_twiml(twilio_post(client, "/voice/menu?l=en&n=sms_confirm",
                                   {"Digits": "1", "From": caller}).get_data(as_text=True))
    assert outbox.sent == []
    assert step.heard[0].text == SMS_FAILED_EN


def test_a_mobile_gets_the_numbers_from_the_hotline(app: Flask, client: FlaskClient) -> None:
    outbox = app.extensions["sms_sender"]
    twilio_post(client, "/voice/menu?l=en&n=sms_confirm",
                {"Digits": "1", "From": "+352621123456"})
    assert [(to, from_) for to, from_, _ in outbox.sent] == [("+352621123456", HOTLINE)]
