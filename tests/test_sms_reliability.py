"""The SMS channel when things go wrong: REST API mode, Twilio errors, a database that is
down, random and forged input."""

from __future__ import annotations

import json
import logging
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from ivr.sms.outbound import TwilioSender
from ivr.storage.db import SmsCase, make_engine
from tests.conftest import HOTLINE, PROFILES, TOKEN, sign
from tests.test_sms_support import (
    NUMBER_KEY,
    PERSON,
    STAFF,
    STAFF_2,
    case_code,
    messages,
    send_sms,
    sms_app,
)

DOWN = "postgresql://postgres@127.0.0.1:9/nothing"  # nothing listens on the discard port


class FakeTwilioApi(HttpClient):
    """twilio's HTTP client, answered here: nothing goes on the network."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        super().__init__(logging.getLogger("tests.fake_twilio"), is_async=False)
        self.refuse = refuse
        self.sent: list[dict[str, str]] = []

    def request(self, method: str, uri: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> TwilioResponse:
        assert method == "POST" and uri.endswith("/Messages.json"), uri
        form = {k: str(v) for k, v in (data or {}).items()}
        if form["To"] in self.refuse:
            # 21610: the number has opted out (the error Twilio gives after STOP).
            return TwilioResponse(400, json.dumps({"code": 21610, "status": 400,
                                                   "message": "Attempt to send to "
                                                   "unsubscribed recipient"}))
        self.sent.append(form)
        return TwilioResponse(201, json.dumps({"sid": f"SM{len(self.sent):032d}",
                                               "status": "queued", "to": form["To"]}))


def rest_app(make_app: Callable[..., Flask], api: FakeTwilioApi, **config: Any) -> Flask:
    client = Client("AC" + "0" * 32, TOKEN, http_client=api)
    config.setdefault("SMS_USE_REST_API", True)
    return sms_app(make_app, SMS_SENDER=TwilioSender(client), **config)


def test_rest_mode_sends_everything_through_the_api(make_app: Callable[..., Flask]) -> None:
    api = FakeTwilioApi()
    app = rest_app(make_app, api)
    client = app.test_client()
    response = send_sms(client, "My boss keeps my passport")
    assert messages(response) == []  # empty TwiML: nothing left for <Message>
    assert [(m["To"], m["From"]) for m in api.sent] == [(STAFF, HOTLINE), (STAFF_2, HOTLINE),
                                                        (PERSON, HOTLINE)]
    code = case_code(api.sent[0]["Body"])
    send_sms(client, f"#{code} We can meet you", from_=STAFF)
    assert api.sent[-1] == {"To": PERSON, "From": HOTLINE, "Body": "We can meet you"}


def test_the_profile_can_choose_rest_mode(make_app: Callable[..., Flask],
                                          tmp_path: Path) -> None:
    profile = tmp_path / "rest.toml"
    profile.write_text(PROFILES["luxembourg"].read_text(encoding="utf-8").replace(
        "use_rest_api = false", "use_rest_api = true"), encoding="utf-8")
    api = FakeTwilioApi()
    client = Client("AC" + "0" * 32, TOKEN, http_client=api)
    app = sms_app(make_app, str(profile), SMS_SENDER=TwilioSender(client))
    assert messages(send_sms(app.test_client(), "HELP")) == []
    assert [m["To"] for m in api.sent] == [PERSON]


def test_a_twilio_error_on_the_relay_gets_the_sender_the_numbers(
        make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture) -> None:
    api = FakeTwilioApi(refuse=frozenset({STAFF, STAFF_2}))
    app = rest_app(make_app, api)
    with caplog.at_level(logging.INFO):
        send_sms(app.test_client(), "Nobody pays us since March")
    [answer] = api.sent
    assert answer["To"] == PERSON
    assert answer["Body"] == ("Sorry, your message could not be passed on. Please call "
                              "+352 27 36 56 46, free. Emergency: 113.")
    assert "+352 27 36 56 46" in answer["Body"]
    assert "not accepted by Twilio" in caplog.text
    assert PERSON not in caplog.text and "March" not in caplog.text


def test_a_helpline_reply_twilio_refuses_is_reported_back(
        make_app: Callable[..., Flask]) -> None:
    api = FakeTwilioApi(refuse=frozenset({PERSON}))
    app = rest_app(make_app, api)
    client = app.test_client()
    send_sms(client, "Please write to me later")
    code = case_code(api.sent[0]["Body"])
    send_sms(client, f"#{code} Hello", from_=STAFF)
    assert api.sent[-1] == {"To": STAFF, "From": HOTLINE, "Body": (
        f"Votre réponse au dossier #{code} n'a pas pu être envoyée.")}


@pytest.mark.parametrize("body", ["Please help, I am locked in", "HELP", "ДОПОМОГА", ""])
def test_a_database_that_is_down_still_gives_the_numbers(
        make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture, body: str) -> None:
    app = make_app(DATABASE_URL=DOWN, NUMBER_ENCRYPTION_KEY=NUMBER_KEY)
    with caplog.at_level(logging.INFO):
        replies = messages(send_sms(app.test_client(), body, sid="SMdown1"))
    answer = replies[-1]
    assert answer[0] is None
    assert "+352 27 36 56 46" in answer[1] and "113" in answer[1]
    if body == "Please help, I am locked in":
        # A free text reaches the helpline anyway, masked: no number, no case code.
        assert replies[:-1] == [(STAFF, "#---- [en] Please help, I am locked in"),
                                (STAFF_2, "#---- [en] Please help, I am locked in")]
        assert answer[1].startswith("Your message reached the helpline, but no reply")
    else:
        assert len(replies) == 1  # a keyword is answered; nothing to relay
    assert "storage failed: OperationalError" in caplog.text
    assert "SMdown1" in caplog.text  # staff can find it in Twilio's logs
    assert PERSON not in caplog.text and PERSON[1:] not in caplog.text
    if body:
        assert body not in caplog.text


def test_an_unmigrated_database_still_relays_the_text(make_app: Callable[..., Flask],
                                                      tmp_path: Path) -> None:
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'none' / 'x.sqlite3'}",
                   NUMBER_ENCRYPTION_KEY=NUMBER_KEY)
    from sqlalchemy import text

    with make_engine(app.config["DATABASE_URL"]).begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS sms_deliveries"))
    replies = messages(send_sms(app.test_client(), "I need a place to stay"))
    assert [to for to, _ in replies] == [STAFF, STAFF_2, None]
    assert replies[0][1] == "#---- [en] I need a place to stay"
    assert "+352 27 36 56 46" in replies[2][1]


# --- property tests ----------------------------------------------------------------

RTL = st.text(st.characters(min_codepoint=0x0590, max_codepoint=0x06FF), max_size=200)
EMOJI = st.text(st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=300)
CONTROL = st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl"]),
                  max_size=50)
BODIES = st.one_of(st.just(""), st.text(max_size=1600), st.text(min_size=1500, max_size=1700),
                   RTL, EMOJI, CONTROL, st.sampled_from(["HELP", "STOP", "START", "#K7M2 hi"]),
                   st.builds(lambda a, b: a + b, st.text(max_size=20), RTL))
SENDERS = st.one_of(st.sampled_from([PERSON, STAFF, "+40721234567", "", "12345",
                                     "client:anonymous", "+1 (800) 555-0100"]),
                    st.text(string.printable, max_size=20))
FIELDS = ["MessageSid", "From", "To", "Body"]


def _case_count(app: Flask) -> int:
    with Session(make_engine(app.config["DATABASE_URL"])) as session:
        return int(session.scalar(select(func.count()).select_from(SmsCase)) or 0)


@pytest.fixture
def prop_app(make_app: Callable[..., Flask]) -> Flask:
    return sms_app(make_app)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(body=BODIES, sender=SENDERS, sid=st.text(max_size=80),
       missing=st.sets(st.sampled_from(FIELDS)))
def test_any_signed_message_gets_an_answer_never_a_5xx(prop_app: Flask, body: str,
                                                       sender: str, sid: str,
                                                       missing: set[str]) -> None:
    data = {"MessageSid": sid, "From": sender, "To": HOTLINE, "Body": body}
    data = {k: v for k, v in data.items() if k not in missing}
    response = prop_app.test_client().post(
        "/sms", data=data, headers={"X-Twilio-Signature": sign("/sms", data)}, buffered=True)
    assert response.status_code == 200
    for to, text in messages(response):
        assert text.strip()
        if to is not None and to != PERSON:
            assert to in (STAFF, STAFF_2)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(body=BODIES, sender=SENDERS,
       signature=st.one_of(st.just(None), st.text(string.ascii_letters + string.digits + "+/= ",
                                                 max_size=40)),
       wrong_token=st.booleans())
def test_a_forged_request_is_refused_and_never_relayed(prop_app: Flask, body: str,
                                                       sender: str, signature: str | None,
                                                       wrong_token: bool) -> None:
    data = {"MessageSid": "SMforged", "From": sender, "To": HOTLINE, "Body": body}
    if wrong_token:
        signature = sign("/sms", data, token="a-leaked-old-token")
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    before = _case_count(prop_app)
    response = prop_app.test_client().post("/sms", data=data, headers=headers)
    assert response.status_code == 403
    assert b"<Message" not in response.data
    assert _case_count(prop_app) == before


def test_twilio_form_fields_arrive_as_twilio_sends_them(prop_app: Flask) -> None:
    """Extra fields Twilio posts (media, geography) change nothing."""
    extra = {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/x", "FromCountry": "UA",
             "SmsStatus": "received", "NumSegments": "1", "ApiVersion": "2010-04-01"}
    replies = messages(send_sms(prop_app.test_client(), "", **extra))
    # A picture without text: the numbers, in the language of the number's country.
    assert replies == [(None, "INFOTRAITE: +352 27 36 56 46, "
                              "безкоштовно, без імені. Терміново: 113.")]


def test_a_retry_of_a_message_that_failed_is_handled_not_dropped(
        make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    app = sms_app(make_app)
    store = app.extensions["sms_store"]
    real_case_for = store.case_for

    def failing(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import OperationalError

        raise OperationalError("INSERT", {}, Exception("the server went away"))

    monkeypatch.setattr(store, "case_for", failing)
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        first = messages(send_sms(client, "The door is locked from outside", sid="SMretry"))
    assert "SMS SMretry not relayed normally, storage failed: OperationalError" in caplog.text
    # Relayed masked (no code to answer), and the sender gets the numbers.
    assert [to for to, _ in first] == [STAFF, STAFF_2, None]
    assert first[0][1].startswith("#---- [en] ")
    monkeypatch.setattr(store, "case_for", real_case_for)
    retry = messages(send_sms(client, "The door is locked from outside", sid="SMretry"))
    assert [to for to, _ in retry] == [STAFF, STAFF_2, None]
    case_code(retry[0][1])  # this time with a case code the helpline can answer
