"""Staff replies need the phone's PIN as well as its number; a flood of faked replies never
silences the real phone, and every refusal tells the phone why (issue #23 part 1)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_time
from flask import Flask

from ivr.sms.staff import PHONE_CEILING, WRONG_PIN_ANSWERS, StaffGate, case_key
from ivr.storage.sms_store import CODE_ALPHABET, new_code
from tests.services import RedisKeys
from tests.test_sms_support import PERSON, STAFF, STAFF_2, case_code, messages, send_sms, sms_app

PIN = "48291357"
PIN_2 = "11820499"
LUXEMBOURG = "Europe/Luxembourg"


@pytest.fixture
def guarded(make_app: Callable[..., Flask]) -> Flask:
    return sms_app(make_app, STAFF_REPLY_PINS=f"{STAFF}={PIN},{STAFF_2}={PIN_2}")


def open_case(app: Flask, person: str = PERSON) -> str:
    relays = messages(send_sms(app.test_client(), "I need help, they took my passport",
                               from_=person))
    return case_code(relays[0][1])


def reply(app: Flask, body: str, from_: str = STAFF) -> list[tuple[str | None, str]]:
    return messages(send_sms(app.test_client(), body, from_=from_))


def wrong_pin(code: str) -> str:
    return (f"PIN faux ou absent : votre réponse au #{code} n'a pas été envoyée. Écrivez le "
            "code, puis le PIN de ce téléphone, puis le texte.")


def random_code(n: int) -> str:
    """A code a faker might send: well formed, naming no case (or, by a 1e-11 chance, one)."""
    return new_code()[:7] + CODE_ALPHABET[n % len(CODE_ALPHABET)]


def test_a_reply_with_the_pin_reaches_the_person(guarded: Flask) -> None:
    code = open_case(guarded)
    assert reply(guarded, f"#{code} {PIN} We can help you.") == [(PERSON, "We can help you.")]


def test_a_reply_of_the_pin_alone_sends_nothing(guarded: Flask) -> None:
    code = open_case(guarded)
    assert reply(guarded, f"#{code} {PIN}") == [
        (None, "Commencez votre réponse par le code du dossier, par exemple #K7M2. Rien n'a "
               "été envoyé.")]


@pytest.mark.parametrize("body", ["#{code} We can help you.", "#{code} 48291356 We can help.",
                                  "#{code} 11820499 We can help."])  # another phone's PIN
def test_a_reply_without_its_phones_pin_is_told_so_and_confirms_no_case(
        guarded: Flask, body: str) -> None:
    """The phone learns its PIN was wrong or missing; the answer is the same for a code that
    names a case and one that names none, and the person's number never comes back."""
    code = open_case(guarded)
    unknown = random_code(1)
    for each in (code, unknown):
        replies = reply(guarded, body.format(code=each))
        assert replies == [(None, wrong_pin(each))]
        assert PERSON not in str(replies)


def test_each_refusal_tells_the_phone_why(guarded: Flask) -> None:
    """No code, wrong PIN, no such case, closed case, opted out: one answer each, in the
    staff language (French for Luxembourg)."""
    store = guarded.extensions["sms_store"]
    code = open_case(guarded)
    closed = open_case(guarded, "+380501234568")
    store.close_case(closed)
    stopped = open_case(guarded, "+380501234569")
    send_sms(guarded.test_client(), "STOP", from_="+380501234569")
    nowhere = random_code(2)
    said = {
        "no code": reply(guarded, f"{PIN} hello"),
        "wrong PIN": reply(guarded, f"#{code} 00000000 hello"),
        "no such case": reply(guarded, f"#{nowhere} {PIN} hello"),
        "closed": reply(guarded, f"#{closed} {PIN} hello"),
        "opted out": reply(guarded, f"#{stopped} {PIN} hello"),
    }
    assert said == {
        "no code": [(None, "Commencez votre réponse par le code du dossier, par exemple "
                           "#K7M2. Rien n'a été envoyé.")],
        "wrong PIN": [(None, wrong_pin(code))],
        "no such case": [(None, f"Aucun dossier #{nowhere} : votre réponse n'a pas été "
                                "envoyée.")],
        "closed": [(None, f"Le dossier #{closed} est clos ou expiré : votre réponse n'a pas "
                          "été envoyée.")],
        "opted out": [(None, f"Le dossier #{stopped} s'est désinscrit (STOP) : rien ne peut "
                             "lui être envoyé.")],
    }


def test_a_flood_of_faked_replies_never_blocks_the_real_phone(
        guarded: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """50 texts with the helpline phone's From and a wrong PIN (a faker knows no code), then
    the phone's real reply: it reaches the person. The phone is told of the first wrong PINs,
    then once that its number may be faked, then nothing more; the log shows the flood
    without a number."""
    code = open_case(guarded)
    answers = []
    with caplog.at_level(logging.WARNING, logger="ivr.sms"):
        for n in range(50):
            answers.append(reply(guarded, f"#{random_code(n)} 1234{n:04d} call me"))
    assert reply(guarded, f"#{code} {PIN} We can help you.") == [(PERSON, "We can help you.")]
    told = int(WRONG_PIN_ANSWERS.split()[0])
    assert all(len(a) == 1 and a[0][1].startswith("PIN faux") for a in answers[:told])
    [(_, notice)] = answers[told]
    assert re.fullmatch(r"Beaucoup de réponses avec un PIN faux viennent du numéro de ce "
                        r"téléphone : il est sans doute usurpé\. Le bon PIN passe toujours\. "
                        r"Plus de réponse aux PIN faux avant \d\d:\d\d\.", notice), notice
    assert answers[told + 1:] == [[]] * (50 - told - 1)
    flood = [r.getMessage() for r in caplog.records if "wrong or missing PIN" in r.getMessage()]
    assert len(flood) == 50 and "helpline phone 1 of 2 (50 failed replies" in flood[-1]
    assert not any(number in r.getMessage() for r in caplog.records
                   for number in (STAFF, STAFF[1:], PERSON, PERSON[1:], PIN))


def test_wrong_pins_for_one_case_are_limited_and_the_phone_told_until_when(
        guarded: Flask) -> None:
    """Someone who read a code off a helpline phone cannot try PINs on it for long; the
    phone is told when it may reply again (Luxembourg's time), once, and other cases and
    the other phone go on."""
    code = open_case(guarded)
    other = open_case(guarded, "+380501234570")
    for n in range(10):
        reply(guarded, f"#{code} 9999{n:04d} hello")
    refused = reply(guarded, f"#{code} {PIN} hello")
    gate: StaffGate = guarded.extensions["sms"].staff
    phone = guarded.extensions["sms"].vault.identity(STAFF)
    window = gate._per_case.window(case_key(phone, code))
    assert window is not None
    until = format_time(window[1], "short", tzinfo=ZoneInfo(LUXEMBOURG),
                        locale="fr")
    assert refused == [(None, f"Trop de réponses refusées : votre réponse au #{code} n'a pas "
                              f"été envoyée. Réessayez après {until}.")]
    assert reply(guarded, f"#{code} {PIN} hello") == []  # told once, not per text
    assert reply(guarded, f"#{other} {PIN} hello") == [("+380501234570", "hello")]
    assert reply(guarded, f"#{code} {PIN_2} hello", STAFF_2) == [(PERSON, "hello")]


def test_unknown_codes_with_the_right_pin_are_limited_per_phone(guarded: Flask) -> None:
    code = open_case(guarded)
    for n in range(10):
        assert reply(guarded, f"#{random_code(n)} {PIN} hello")[0][1].startswith("Aucun dossier")
    [(to, text)] = reply(guarded, f"#{code} {PIN} hello")
    assert to is None and text.startswith("Trop de réponses refusées")
    # The other helpline phone has its own count.
    assert reply(guarded, f"#{code} {PIN_2} hello", STAFF_2) == [(PERSON, "hello")]


def test_the_ceiling_stops_a_flood_far_above_typing() -> None:
    gate = StaffGate(lambda number: PIN)
    ceiling = int(PHONE_CEILING.split()[0])
    assert ceiling >= 100  # far above what a person mistypes in an hour
    for n in range(ceiling - 1):
        gate.wrong_pin("phone-a", random_code(n))
    assert gate.refused("phone-a", "K7QM2XPA") is None
    gate.wrong_pin("phone-a", "K7QM2XPA")
    refusal = gate.refused("phone-a", "ZZZZZZZZ")
    assert refusal is not None and refusal.scope == "phone"
    assert refusal.until > datetime.now(UTC)
    assert gate.refused("phone-b", "ZZZZZZZZ") is None


def test_no_count_depends_on_whether_a_case_exists(guarded: Flask) -> None:
    """Wrong PINs are counted under the code the text names, checked before any look-up."""
    code = open_case(guarded)
    unknown = random_code(3)
    for each in (code, unknown):
        for n in range(3):
            reply(guarded, f"#{each} 7777{n:04d} hello")
    gate: StaffGate = guarded.extensions["sms"].staff
    phone = guarded.extensions["sms"].vault.identity(STAFF)
    counts = [gate._per_case.window(case_key(phone, each)) for each in (code, unknown)]
    assert [c[0] for c in counts if c] == [3, 3]


def test_case_codes_are_long_enough_that_guessing_is_hopeless() -> None:
    codes = [new_code() for _ in range(2000)]
    assert {len(code) for code in codes} == {8}
    symbols = set("".join(codes))
    # Read off a small screen and typed back: no 0/O, 1/I/L, 5/S, 8/B, no lower case.
    assert not symbols & set("0O1IL5S8B") and "".join(symbols).isupper()
    assert len(symbols) == 27 and len(set(codes)) == len(codes)
    # 10 unknown codes an hour per phone (with its PIN): the chance to find one of 1,000
    # open cases in a year is 10 * 24 * 365 * 1000 / 27**8, about 0.03 %.
    assert 10 * 24 * 365 * 1000 / len(symbols) ** 8 < 0.0004


def test_the_gate_compares_the_pin_and_keeps_the_text() -> None:
    gate = StaffGate(lambda number: PIN if number == STAFF else "")
    assert gate.unlock(STAFF, f"{PIN}: see you at 5") == "see you at 5"
    assert gate.unlock(STAFF, "see you at 5") is None
    assert gate.unlock(STAFF, "") is None
    assert gate.unlock(STAFF_2, "see you at 5") == "see you at 5"  # no PIN: local mode


def test_the_limits_are_shared_through_redis(shared_store: RedisKeys) -> None:
    """Two gates on one store (two workers): failures at one count at the other."""
    first, second = (StaffGate(storage_uri=shared_store.url, key_prefix=shared_store.prefix)
                     for _ in range(2))
    for n in range(5):
        first.wrong_pin("phone-a", "K7QM2XPA")
        second.wrong_pin("phone-a", "K7QM2XPA")
        assert first.refused("phone-a", "K7QM2XPA") is None or n == 4
    assert first.refused("phone-a", "K7QM2XPA") is not None
    assert second.refused("phone-a", "K7QM2XPA") is not None
    assert first.refused("phone-a", "ZZZZZZZZ") is None
    assert first.refused("phone-b", "K7QM2XPA") is None
    assert shared_store.keys(), "counted in Redis, under this test's prefix"
    assert not any("K7QM2XPA" in key for key in shared_store.keys())  # no code in the store


def test_with_the_limit_store_down_the_pin_still_holds(caplog: pytest.LogCaptureFixture) -> None:
    """Failures cannot be counted (logged), so nothing is refused for a count; the PIN is
    still required."""
    gate = StaffGate(lambda number: PIN, storage_uri="redis://127.0.0.1:9/0")
    with caplog.at_level(logging.WARNING, logger="ivr.security"):
        assert gate.wrong_pin("phone-a", "K7QM2XPA") == 0
        assert gate.refused("phone-a", "K7QM2XPA") is None
    assert gate.unlock(STAFF, "12345678 hello") is None
    assert gate.unlock(STAFF, f"{PIN} hello") == "hello"
    assert any("not counted" in r.getMessage() for r in caplog.records)
