"""Only Twilio drives a call: forged, missing and replayed-elsewhere signatures get 403."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr.security import is_loopback
from ivr.settings import ConfigError, Settings, parse_staff_pins
from ivr.sms.outbound import LocalOutbox, TwilioSender, choose_sender
from tests.conftest import TOKEN, sign, twilio_post

WEBHOOKS = ["/voice", "/voice/language?p=1", "/voice/menu?l=en&n=main",
            "/voice/dialed?l=en&d=infotraite&t=0", "/voice/whisper?l=en",
            "/voice/whisper/answer?l=en", "/voice/recorded?l=en", "/voice/recording?l=en",
            "/voice/status", "/voice/fallback"]
FORM = {"CallSid": "CA1", "From": "+380501234567", "To": "+352200000001", "Digits": "1"}


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_signed_webhook_is_answered(client: FlaskClient, path: str) -> None:
    assert twilio_post(client, path, FORM).status_code in (200, 204)


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_missing_signature_is_refused(client: FlaskClient, path: str) -> None:
    response = client.post(path, data=FORM)
    assert response.status_code == 403
    assert b"not signed by Twilio" in response.data


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_forged_signature_is_refused(client: FlaskClient, path: str) -> None:
    forged = sign(path, FORM, token="not-the-token")
    assert client.post(path, data=FORM, headers={"X-Twilio-Signature": forged}).status_code == 403


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_changed_form_breaks_the_signature(client: FlaskClient, path: str) -> None:
    signature = sign(path, FORM)
    tampered = {**FORM, "Digits": "0"}
    response = client.post(path, data=tampered, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_a_signature_for_another_url_is_refused(client: FlaskClient) -> None:
    signature = sign("/voice/menu?l=en&n=signs", FORM)
    response = client.post("/voice/menu?l=en&n=main", data=FORM,
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_behind_a_tls_proxy_the_forwarded_url_is_checked(make_app: Callable[..., Flask]) -> None:
    """Twilio signs https://public-host/...; the app sees http://internal/... through a proxy."""
    app = make_app(PUBLIC_BASE_URL="", TRUST_PROXY_HOPS="1")
    client = app.test_client()
    signature = sign("/voice", FORM)  # over PUBLIC_BASE_URL = https://hotline.example.org
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hotline.example.org",
                 "X-Forwarded-For": "203.0.113.9"}
    ok = client.post("/voice", data=FORM, base_url="http://10.0.0.5:8000",
                     headers={"X-Twilio-Signature": signature, **forwarded})
    assert ok.status_code == 200
    no_proxy_headers = client.post("/voice", data=FORM, base_url="http://10.0.0.5:8000",
                                   headers={"X-Twilio-Signature": signature})
    assert no_proxy_headers.status_code == 403


@pytest.mark.parametrize("hops", ["0", 0, None, ""])
def test_without_proxy_trust_forwarded_headers_are_ignored(
        make_app: Callable[..., Flask], hops: object) -> None:
    client = make_app(PUBLIC_BASE_URL="", TRUST_PROXY_HOPS=hops).test_client()
    signature = sign("/voice", FORM)
    response = client.post("/voice", data=FORM, base_url="http://10.0.0.5:8000", headers={
        "X-Twilio-Signature": signature, "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "hotline.example.org"})
    assert response.status_code == 403


def test_local_mode_accepts_unsigned_requests_from_loopback_only(
        make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        app = make_app(TWILIO_AUTH_TOKEN="")
    assert "local mode" in caplog.text
    client = app.test_client()
    assert client.post("/voice", data=FORM,
                       environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.post("/voice", data=FORM,
                       environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.post("/voice", data=FORM,
                       environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 403
    assert client.get("/healthz").json["local_mode"] is True


def test_webhooks_take_only_post(client: FlaskClient) -> None:
    assert client.get("/voice").status_code == 405


def test_the_token_never_appears_in_an_answer(client: FlaskClient) -> None:
    for path in WEBHOOKS:
        assert TOKEN.encode() not in twilio_post(client, path, FORM).data


# --- production refuses to start; local mode only on purpose (issue #11) -------------------

PRODUCTION = {"LOCAL_MODE": False, "TWILIO_AUTH_TOKEN": TOKEN,
              "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
              "SECRET_KEY": "a-production-secret-of-32-chars!",
              "NUMBER_ENCRYPTION_KEY": "Jr4H1Tz-9rJ9Ff2fZr1l2o3RkWzgGk3s1p3B7rQb1Xo=",
              "RATELIMIT_STORAGE_URI": "memory://", "STAFF_REPLY_PINS": "48291357"}


def test_a_complete_production_configuration_starts(make_app: Callable[..., Flask]) -> None:
    app = make_app(**PRODUCTION)
    assert app.test_client().get("/healthz").json["local_mode"] is False


@pytest.mark.parametrize("variable", ["TWILIO_AUTH_TOKEN", "SECRET_KEY", "NUMBER_ENCRYPTION_KEY",
                                      "RATELIMIT_STORAGE_URI", "TWILIO_ACCOUNT_SID",
                                      "STAFF_REPLY_PINS", "PUBLIC_BASE_URL"])
def test_production_refuses_to_start_naming_what_is_missing(
        make_app: Callable[..., Flask], variable: str) -> None:
    with pytest.raises(ConfigError, match=rf"- {variable} "):
        make_app(**{**PRODUCTION, variable: ""})


def test_a_short_staff_pin_or_secret_key_is_refused(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ConfigError, match="STAFF_REPLY_PINS"):
        make_app(**{**PRODUCTION, "STAFF_REPLY_PINS": "1234"})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        make_app(**{**PRODUCTION, "SECRET_KEY": "short"})


@pytest.mark.parametrize("pin", ["7", "12345", "abcdef", "12 3456", "١٢٣٤٥٦"])
def test_every_pin_is_six_digits_or_more_or_production_does_not_start(
        make_app: Callable[..., Flask], pin: str) -> None:
    """Issue #22: STAFF_RECORDING_PIN=7 was accepted at start."""
    with pytest.raises(ConfigError, match="STAFF_RECORDING_PIN must be 6 digits or more"):
        make_app(**{**PRODUCTION, "STAFF_RECORDING_PIN": pin})
    with pytest.raises(ConfigError, match="STAFF_REPLY_PINS: the PIN for every phone must be 6"):
        make_app(**{**PRODUCTION, "STAFF_REPLY_PINS": pin})
    assert make_app(**{**PRODUCTION, "STAFF_RECORDING_PIN": "246813"})


@pytest.mark.parametrize(("pins", "problem"), [
    ("+352XXXXXXXX=246813", "names '+352XXXXXXXX', which is not a helpline phone"),
    ("+352 621 351 884=246813", "names '+352 621 351 884', which is not a helpline phone"),
    ("+352621351884=12", "the PIN for +352621351884 must be 6 digits"),
    ("+352621351884=246813", "has no PIN for +352621316919"),
])
def test_staff_reply_pins_name_the_phone_and_what_is_wrong(pins: str, problem: str) -> None:
    """Issue #24: a malformed phone in STAFF_REPLY_PINS was silently ignored."""
    settings = Settings.load({}, {**PRODUCTION, "STAFF_REPLY_PINS": pins})
    found = settings.problems(helpline_numbers=("+352621351884", "+352621316919"))
    assert any(problem in line for line in found), found


def test_without_local_mode_nothing_unsigned_is_accepted(make_app: Callable[..., Flask]) -> None:
    """Even if production's checks were bypassed, no token and no LOCAL_MODE is signed-only."""
    assert Settings.load({}, {"TWILIO_AUTH_TOKEN": ""}).signed is True
    assert Settings.load({}, {"TWILIO_AUTH_TOKEN": "", "LOCAL_MODE": "1"}).signed is False
    assert Settings.load({"LOCAL_MODE": "yes"}).local_mode is True
    assert Settings.load({"LOCAL_MODE": "0"}).local_mode is False


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP",
                                    "X-Forwarded-Proto"])
def test_local_mode_never_counts_a_proxied_request_as_local(
        make_app: Callable[..., Flask], header: str) -> None:
    """A proxy on this machine connects from loopback: what it forwards is from outside."""
    client = make_app(TWILIO_AUTH_TOKEN="").test_client()
    response = client.post("/voice", data=FORM, headers={header: "203.0.113.9"},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 403


def test_local_mode_with_proxy_hops_accepts_nothing_unsigned(
        make_app: Callable[..., Flask]) -> None:
    client = make_app(TWILIO_AUTH_TOKEN="", TRUST_PROXY_HOPS="1").test_client()
    assert client.post("/voice", data=FORM,
                       environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403


def test_the_outbox_exists_in_local_mode_only() -> None:
    assert choose_sender("", TOKEN, local_mode=False) is None
    assert isinstance(choose_sender("", TOKEN, local_mode=True), LocalOutbox)
    assert isinstance(choose_sender("AC" + "0" * 32, TOKEN, local_mode=False), TwilioSender)


def test_staff_pins_parse_per_phone_and_for_all() -> None:
    assert parse_staff_pins("+352621351884=48291357, +352621316919=11820499") == {
        "+352621351884": "48291357", "+352621316919": "11820499"}
    assert parse_staff_pins("48291357") == {"*": "48291357"}
    pins = Settings.load({"STAFF_REPLY_PINS": "+352621351884=48291357,99999999"})
    assert pins.staff_pin("+352621351884") == "48291357"
    assert pins.staff_pin("+352621316919") == "99999999"


def test_bad_proxy_hops_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="TRUST_PROXY_HOPS"):
        Settings.load({"TRUST_PROXY_HOPS": "one"})


# --- prompt audio: only the manifest's files, for the profile's languages -------------------

@pytest.mark.parametrize("path", ["/prompts/%2e%2e/x.wav", "/prompts/..%2Fprompts/main.talk.wav",
                                  "/prompts/lb/..%2F..%2Fmanifest.wav",
                                  "/prompts/xx/main.talk.wav", "/prompts/lb/main.talk.0.wav",
                                  "/prompts/LB/main.talk.wav"])
def test_prompt_audio_outside_the_profile_is_not_served(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_a_prompt_of_the_profile_is_served(client: FlaskClient) -> None:
    with client.get("/prompts/lb/main.talk.wav") as response:
        assert response.status_code == 200
        assert response.mimetype == "audio/wav"


def test_ivr_run_in_local_mode_refuses_a_public_host(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from ivr.cli.main import main

    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["run", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code != 0
    assert "local mode (no TWILIO_AUTH_TOKEN) serves loopback only, not 0.0.0.0" in result.output
@pytest.mark.parametrize(("address", "expected"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True),
    ("198.51.100.7", False), ("10.0.0.1", False), ("::ffff:198.51.100.7", False),
    # What is not an address is never loopback: local mode must not open up on garbage.
    ("", False), (None, False), ("localhost", False), ("not an address", False),
    ("127.0.0.1.evil", False), ("127.0.0.1, 198.51.100.7", False),
])
def test_is_loopback(address: str | None, expected: bool) -> None:
    assert is_loopback(address) is expected


def test_local_mode_refuses_a_request_with_an_unreadable_address(
        make_app: Callable[..., Flask]) -> None:
    client = make_app(TWILIO_AUTH_TOKEN="").test_client()
    for address in ("", "unknown", "127.0.0.1.example.org"):
        response = client.post("/voice", data=FORM, environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 403, address
        response = client.post("/sms", data={"From": FORM["From"], "Body": "HELP"},
                               environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 403, address


def test_a_signed_hotline_says_nothing_of_local_mode(make_app: Callable[..., Flask],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        make_app()
    assert "local mode" not in caplog.text


@pytest.mark.console
def test_the_console_keeps_its_session_and_webhooks_get_none(client: FlaskClient) -> None:
    login = client.get("/console/login")
    assert login.status_code == 200
    assert "session=" in login.headers.get("Set-Cookie", "")  # its CSRF token lives there
    # The client now sends the console's cookie: a webhook neither reads it (a read would
    # answer "Vary: Cookie") nor sets one.
    for path in ("/voice", "/voice/menu?l=en&n=main"):
        answer = twilio_post(client, path, FORM)
        assert answer.status_code == 200
        assert "Set-Cookie" not in answer.headers and "Vary" not in answer.headers
