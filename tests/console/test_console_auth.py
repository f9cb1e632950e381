"""The console's guard: sign-in, sessions, CSRF, rate limit, headers; webhooks untouched."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import twilio_post
from tests.console.conftest import (
    OPERATOR,
    OTHER,
    OTHER_PASSWORD,
    PASSWORD,
    console_post,
    csrf_from,
    sign_in,
)

SAMPLE_ARGS = {"lang": "uk", "message_id": "1", "filename": "console.css",
               "prompt_id": "main.talk", "recording_id": "1"}


def console_urls(app: Flask) -> list[tuple[str, str]]:
    """(method, URL) of every console route but sign-in and the stylesheet."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/console") or rule.endpoint in (
                "console.login", "console.static"):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{name}>", SAMPLE_ARGS[name], url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_every_console_route_without_a_session_redirects_to_sign_in(console_app: Flask) -> None:
    client = console_app.test_client()
    urls = console_urls(console_app)
    assert len(urls) >= 10, urls
    for method, url in urls:
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url, response.status_code)
        assert response.location.startswith("/console/login"), (method, url)


def test_right_password_signs_in(console_app: Flask) -> None:
    client = console_app.test_client()
    response = sign_in(client)
    assert response.status_code == 302 and response.location == "/console/menu"
    assert client.get("/console/menu").status_code == 200


@pytest.mark.parametrize("name, password", [(OPERATOR, "wrong password here"),
                                            ("nobody", PASSWORD), (OPERATOR, ""),
                                            (OTHER, PASSWORD)])
def test_wrong_password_is_refused(console_app: Flask, name: str, password: str) -> None:
    client = console_app.test_client()
    response = sign_in(client, name, password)
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)
    assert client.get("/console/menu").status_code == 302


def test_forged_or_missing_csrf_token_is_refused(console_app: Flask, console: FlaskClient) -> None:
    fresh = console_app.test_client()
    fresh.get("/console/login")
    refused = fresh.post("/console/login", data={"name": OPERATOR, "password": PASSWORD,
                                                 "csrf_token": "forged-token"})
    assert refused.status_code == 400
    assert fresh.get("/console/menu").status_code == 302
    missing = fresh.post("/console/login", data={"name": OPERATOR, "password": PASSWORD})
    assert missing.status_code == 400
    # A signed-in operator's forms need the token too.
    real = csrf_from(console.get("/console/menu"))
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    response = console.post("/console/review", data={
        "lang": "uk", "prompt": "main.talk", "verdict": "comment", "comment": "x",
        "csrf_token": forged})
    assert response.status_code == 400
    response = console.post("/console/logout", data={})
    assert response.status_code == 400
    assert console.get("/console/menu").status_code == 200  # still signed in


def test_a_signed_out_session_cookie_cannot_be_replayed(console_app: Flask,
                                                        console: FlaskClient) -> None:
    stolen = console.get_cookie("session")
    assert stolen is not None
    other = console_app.test_client()
    assert sign_in(other, OTHER, OTHER_PASSWORD).status_code == 302
    response = console_post(console, "/console/menu", "/console/logout", {})
    assert response.status_code == 302 and response.location == "/console/login"
    replay = console_app.test_client()
    replay.set_cookie("session", stolen.value)
    response = replay.get("/console/menu")
    assert response.status_code == 302 and response.location.startswith("/console/login")
    # Signing out one operator leaves the other's session alone.
    assert other.get("/console/menu").status_code == 200


def test_session_cookie_flags_and_security_headers(console_app: Flask) -> None:
    client = console_app.test_client()
    page = client.get("/console/login")
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    token = csrf_from(page)
    signed = client.post("/console/login", data={"name": OPERATOR, "password": PASSWORD,
                                                 "csrf_token": token})
    cookie = next(c for c in signed.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_attempts_are_rate_limited(console_app: Flask) -> None:
    client = console_app.test_client()
    token = csrf_from(client.get("/console/login"))
    statuses = [client.post("/console/login", data={"name": OPERATOR, "password": "guess " * 3,
                                                    "csrf_token": token}).status_code
                for _ in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    # Even the right password waits until the limit has passed.
    response = client.post("/console/login", data={"name": OPERATOR, "password": PASSWORD,
                                                   "csrf_token": token})
    assert response.status_code == 429
    assert "Too many" in response.get_data(as_text=True)


def test_one_account_is_rate_limited_across_addresses(console_app: Flask) -> None:
    statuses = []
    for attempt in range(32):
        client = console_app.test_client()
        address = {"REMOTE_ADDR": f"192.0.2.{attempt + 1}"}  # documentation range
        token = csrf_from(client.get("/console/login", environ_base=address))
        statuses.append(client.post("/console/login", environ_base=address, data={
            "name": OPERATOR, "password": "guess " * 3, "csrf_token": token}).status_code)
    assert statuses[:30] == [401] * 30 and statuses[30:] == [429, 429]
    # Another operator is not locked out by guesses at the first one.
    assert sign_in(console_app.test_client(), OTHER, OTHER_PASSWORD).status_code == 302


def test_after_sign_in_only_console_paths_are_followed(console_app: Flask) -> None:
    for target, expected in [("https://evil.example/", "/console/menu"),
                             ("//evil.example/x", "/console/menu"),
                             ("/console/../../x", "/console/menu"),
                             ("/console/script?lang=de", "/console/script?lang=de")]:
        client = console_app.test_client()
        token = csrf_from(client.get("/console/login"))
        response = client.post("/console/login", query_string={"next": target},
                               data={"name": OPERATOR, "password": PASSWORD,
                                     "csrf_token": token})
        assert response.location == expected, target


def test_webhooks_need_no_csrf_token_and_no_session(console_app: Flask) -> None:
    client = console_app.test_client()
    response = twilio_post(client, "/voice")
    assert response.status_code == 200 and "<Gather" in response.get_data(as_text=True)
    forged = client.post("/voice", data={"CallSid": "CA1"},
                         headers={"X-Twilio-Signature": "forged"})
    assert forged.status_code == 403


def test_operators_add_asks_for_a_password_and_stores_only_a_hash(console_app: Flask) -> None:
    from ivr.cli.main import main

    runner = console_app.test_cli_runner()
    result = runner.invoke(main, args=["operators", "add", "carla"],
                           input="a long enough secret\na long enough secret\n")
    assert result.exit_code == 0, result.output
    assert "a long enough secret" not in result.output
    from sqlalchemy import select

    from ivr.console.models import Operator
    from ivr.console.store import session_scope

    with console_app.app_context(), session_scope() as db:
        stored = db.scalar(select(Operator).where(Operator.name == "carla"))
        assert stored is not None and stored.password_hash.startswith("$argon2")
    assert sign_in(console_app.test_client(), "carla", "a long enough secret").status_code == 302
    again = runner.invoke(main, args=["operators", "add", "carla", "--password", "x" * 20])
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(main, args=["operators", "add", "dora", "--password", "short"])
    assert short.exit_code != 0 and "at least" in short.output


def test_a_database_that_is_down_gets_a_clear_answer(make_app: Callable[..., Flask]) -> None:
    app = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:9/nothing")  # nobody listens
    client = app.test_client()
    assert client.get("/console/menu").status_code == 302
    response = sign_in(client)
    assert response.status_code == 503
    assert "cannot reach its database" in response.get_data(as_text=True)
    assert twilio_post(client, "/voice").status_code == 200  # callers are not affected


@given(st.text(max_size=60))
@settings(max_examples=200, deadline=None)
def test_after_sign_in_never_leaves_the_console(target: str) -> None:
    from ivr.console.views import _safe_next

    app = Flask(__name__)
    app.add_url_rule("/console/menu", "console.menu")
    with app.test_request_context():
        result = _safe_next(target)
    assert result.startswith("/console") and ".." not in result
    assert not urlsplit(result).netloc and "\\" not in result


def test_sign_in_over_https_with_the_referer_a_browser_sends(console_app: Flask) -> None:
    """Over HTTPS Flask-WTF also checks the Referer: the referrer policy must let it through."""
    client = console_app.test_client()
    base = "https://hotline.example.org"
    page = client.get("/console/login", base_url=base)
    assert "Strict-Transport-Security" in page.headers
    token = csrf_from(page)
    form = {"name": OPERATOR, "password": PASSWORD, "csrf_token": token}
    cross_site = client.post("/console/login", base_url=base, data=form,
                             headers={"Referer": "https://evil.example/login"})
    assert cross_site.status_code == 400
    signed = client.post("/console/login", base_url=base, data=form,
                         headers={"Referer": f"{base}/console/login"})
    assert signed.status_code == 302 and signed.location == "/console/menu"


def test_the_consoles_extensions_hook_only_the_consoles_requests(console_app: Flask) -> None:
    """Twilio's webhooks do not pay for Flask-Limiter (its hooks cost ~0.1 ms a request),
    CSRF checks or sign-in cookies: the console's requests alone run their hooks."""
    from ivr.console import limiter, login_manager

    def owner(hook: object) -> object:
        bound = getattr(hook, "__self__", None) or (getattr(hook, "args", None) or [None])[0]
        return bound if bound is not None else getattr(hook, "__qualname__", "")

    def of_console(hook: object) -> bool:
        found = owner(hook)
        return found in (limiter, login_manager) or str(found).startswith("CSRFProtect.")

    for hooks in (console_app.before_request_funcs, console_app.after_request_funcs,
                  console_app.teardown_request_funcs):
        assert not any(of_console(hook) for hook in hooks.get(None, []))
    before = console_app.before_request_funcs["console"]
    assert [owner(hook) is limiter for hook in before].count(True) == 1
    assert sum(str(owner(hook)).startswith("CSRFProtect.") for hook in before) == 1
    after = console_app.after_request_funcs["console"]
    assert [owner(hook) is login_manager for hook in after].count(True) == 1
    assert [owner(hook) is limiter for hook in console_app.teardown_request_funcs["console"]
            ].count(True) == 1
