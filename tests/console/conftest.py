"""Console fixtures: a migrated database, an operator, and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ivr.console.accounts import add_operator
from ivr.console.store import session_scope

OPERATOR = "ana"
PASSWORD = "correct horse battery staple"
OTHER = "ben"
OTHER_PASSWORD = "another long passphrase"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(response: TestResponse) -> str:
    """The CSRF token a console page put in its forms."""
    found = _CSRF.search(response.get_data(as_text=True))
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, name: str = OPERATOR, password: str = PASSWORD) -> TestResponse:
    token = csrf_from(client.get("/console/login"))
    return client.post("/console/login", data={"name": name, "password": password,
                                               "csrf_token": token})


def console_post(client: FlaskClient, page: str, path: str, data: dict[str, str],
                 **kwargs: Any) -> TestResponse:
    """POST a console form with the CSRF token of the page that shows it."""
    token = csrf_from(client.get(page))
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)


@pytest.fixture
def console_app(make_app: Callable[..., Flask]) -> Flask:
    """The Luxembourg app (tables made by the shared make_app), with two operators."""
    app = make_app()
    with app.app_context(), session_scope() as db:
        add_operator(db, OPERATOR, PASSWORD)
        add_operator(db, OTHER, OTHER_PASSWORD)
    return app


@pytest.fixture
def console(console_app: Flask) -> FlaskClient:
    """A client signed in as the first operator."""
    client = console_app.test_client()
    response = sign_in(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def record_live(db: Any, hotline: Any, lang: str, prompt_id: str, audio: Any,
                how: str = "upload") -> Any:
    """A take saved by one operator and approved by the other: live for callers."""
    from ivr.console.recording import approve_recording, save_recording

    take = save_recording(db, hotline, OPERATOR, lang, prompt_id, audio, how)
    return approve_recording(db, hotline, OTHER, take.id)
