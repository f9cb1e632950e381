"""Staff replies need the phone's PIN as well as its number, and guessing codes is limited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from ivr.sms.staff import StaffGate
from ivr.storage.sms_store import CODE_ALPHABET, new_code
from tests.services import RedisKeys
from tests.test_sms_support import PERSON, STAFF, STAFF_2, case_code, messages, send_sms, sms_app

PIN = "48291357"


@pytest.fixture
def guarded(make_app: Callable[..., Flask]) -> Flask:
    return sms_app(make_app, STAFF_REPLY_PINS=f"{STAFF}={PIN},{STAFF_2}=11820499")


def open_case(app: Flask) -> str:
    relays = messages(send_sms(app.test_client(), "I need help, they took my passport"))
    return case_code(relays[0][1])


def test_a_reply_with_the_pin_reaches_the_person(guarded: Flask) -> None:
    code = open_case(guarded)
    answer = messages(send_sms(guarded.test_client(), f"#{code} {PIN} We can help you.",
                               from_=STAFF))
    assert answer == [(PERSON, "We can help you.")]


def test_a_reply_of_the_pin_alone_sends_nothing(guarded: Flask) -> None:
    code = open_case(guarded)
    replies = messages(send_sms(guarded.test_client(), f"#{code} {PIN}", from_=STAFF))
    assert replies == [(None, "Commencez votre réponse par le code du dossier, par exemple "
                              "#K7M2. Rien n'a été envoyé.")]


@pytest.mark.parametrize("body", ["#{code} We can help you.", "#{code} 48291356 We can help.",
                                  "#{code} 11820499 We can help."])  # another phone's PIN
def test_a_reply_without_its_phones_pin_is_answered_as_an_unknown_code(
        guarded: Flask, body: str) -> None:
    """A faked From number: the victim's number is never sent back, nor is the code confirmed."""
    code = open_case(guarded)
    replies = messages(send_sms(guarded.test_client(), body.format(code=code), from_=STAFF))
    assert replies == [(None, f"Aucun dossier #{code} : votre réponse n'a pas été envoyée.")]
    assert PERSON not in str(replies)


def test_unknown_codes_are_limited_per_sender(guarded: Flask) -> None:
    client = guarded.test_client()
    code = open_case(guarded)
    for n in range(10):
        guess = "ZZZZZZZ" + CODE_ALPHABET[n]
        wrong = messages(send_sms(client, f"#{guess} {PIN} hello", from_=STAFF))
        assert len(wrong) == 1 and wrong[0][0] is None
    # The 11th failure within the hour: no answer at all, even for the right code and PIN.
    assert messages(send_sms(client, f"#{code} {PIN} hello", from_=STAFF)) == []
    # The other helpline phone has its own count.
    assert messages(send_sms(client, f"#{code} 11820499 hello", from_=STAFF_2)) == [
        (PERSON, "hello")]


def test_case_codes_are_long_enough_that_guessing_is_hopeless() -> None:
    codes = [new_code() for _ in range(2000)]
    assert {len(code) for code in codes} == {8}
    symbols = set("".join(codes))
    # Read off a small screen and typed back: no 0/O, 1/I/L, 5/S, 8/B, no lower case.
    assert not symbols & set("0O1IL5S8B") and "".join(symbols).isupper()
    assert len(symbols) == 27 and len(set(codes)) == len(codes)
    # 10 guesses an hour per sender: the chance that one sender finds one of 1,000 open
    # cases in a year is 10 * 24 * 365 * 1000 / 27**8, about 0.03 %.
    assert 10 * 24 * 365 * 1000 / len(symbols) ** 8 < 0.0004


def test_the_gate_compares_the_pin_and_keeps_the_text() -> None:
    gate = StaffGate(lambda number: PIN if number == STAFF else "")
    assert gate.unlock(STAFF, f"{PIN}: see you at 5") == "see you at 5"
    assert gate.unlock(STAFF, "see you at 5") is None
    assert gate.unlock(STAFF, "") is None
    assert gate.unlock(STAFF_2, "see you at 5") == "see you at 5"  # no PIN: local mode


def test_the_limit_is_shared_through_redis(shared_store: RedisKeys) -> None:
    """Two gates on one store (two workers): failures at one count at the other."""
    first, second = (StaffGate(storage_uri=shared_store.url, key_prefix=shared_store.prefix)
                     for _ in range(2))
    for _ in range(5):
        first.failed("sender-a")
        second.failed("sender-a")
    assert not first.may_try("sender-a") and not second.may_try("sender-a")
    assert first.may_try("sender-b")
    assert shared_store.keys(), "counted in Redis, under this test's prefix"


