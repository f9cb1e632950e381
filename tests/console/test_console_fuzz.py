"""Signed in, whatever a console URL, query or form holds, the answer is never a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr import create_app
from ivr.console.accounts import add_operator
from ivr.console.store import session_scope
from ivr.content.profile import PROFILES_DIR
from ivr.storage.db import create_tables
from tests.conftest import TOKEN
from tests.console.conftest import OPERATOR, PASSWORD, csrf_from, sign_in

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
GET_ROUTES = ["/console/", "/console/menu", "/console/reviews", "/console/reviews/{x}.po",
              "/console/try", "/console/script", "/console/activity",
              "/console/messages/{x}/audio", "/console/login", "/console/{x}"]
POST_ROUTES = ["/console/review", "/console/try", "/console/messages/{x}/heard",
               "/console/logout"]
QUERY_KEYS = ["lang", "show", "days", "next", "node", "at", "v"]
FORM_KEYS = ["lang", "prompt", "verdict", "comment", "back", "hash", "command", "key", "at",
             "state", "node"]
values = st.one_of(st.text(max_size=30), st.text(max_size=2000),
                   st.sampled_from(["", "0", "-1", "99999999999999999999", "en", "uk", "lb",
                                    "main", "reviewed", "press", "start", "\r\n", "../x",
                                    "/console/menu\r\nSet-Cookie: a=b", "2026-11-23 10:00",
                                    "%00", "١٢"]))


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, FlaskClient]]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('console_fuzz')) / 'fuzz.sqlite3'}"
    app = create_app({"TESTING": True, "LOCAL_MODE": True, "TWILIO_AUTH_TOKEN": TOKEN,
                      "SECRET_KEY": "console-fuzz", "DATABASE_URL": url,
                      "HOTLINE_PROFILE": str(PROFILES_DIR / "luxembourg.toml")})
    create_tables(url)
    with app.app_context(), session_scope() as db:
        add_operator(db, OPERATOR, PASSWORD)
    client = app.test_client()
    assert sign_in(client).status_code == 302
    yield app, client


def segment(text: str) -> str:
    return quote(text, safe="") or "x"


@FUZZ
@given(route=st.sampled_from(GET_ROUTES), part=values,
       query=st.dictionaries(st.sampled_from(QUERY_KEYS), values, max_size=4))
def test_any_console_page_request_gets_an_answer(signed_in: tuple[Flask, FlaskClient],
                                                 route: str, part: str,
                                                 query: dict[str, str]) -> None:
    _, client = signed_in
    response = client.get(route.format(x=segment(part)), query_string=query)
    assert response.status_code < 500, (route, part, query)
    if route != "/console/login":
        assert response.status_code != 302 or "/console/login" not in response.location


@FUZZ
@given(route=st.sampled_from(POST_ROUTES[:3]), part=values,
       form=st.dictionaries(st.sampled_from(FORM_KEYS), values, max_size=6))
def test_any_console_form_gets_an_answer(signed_in: tuple[Flask, FlaskClient], route: str,
                                         part: str, form: dict[str, str]) -> None:
    _, client = signed_in
    token = csrf_from(client.get("/console/try"))
    response = client.post(route.format(x=segment(part)), data={**form, "csrf_token": token})
    assert response.status_code < 500, (route, part, form)


def test_an_id_too_long_for_the_database_is_not_found(
        signed_in: tuple[Flask, FlaskClient]) -> None:
    _, client = signed_in
    assert client.get("/console/messages/99999999999999999999/audio").status_code == 404
    token = csrf_from(client.get("/console/try"))
    assert client.post("/console/messages/99999999999999999999/heard",
                       data={"csrf_token": token}).status_code == 404


def test_a_next_with_a_line_break_goes_to_the_menu(console_app: Flask) -> None:
    client = console_app.test_client()
    token = csrf_from(client.get("/console/login"))
    response = client.post("/console/login",
                           query_string={"next": "/console/menu\r\nSet-Cookie: a=b"},
                           data={"name": OPERATOR, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.location == "/console/menu"
