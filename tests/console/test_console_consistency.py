"""One state per prompt: Overview, Review, Script and the menu say the same, with the same
totals, before and after a second operator approves a text; ids out of range are 404."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from ivr.console.editing import approve, save_draft
from ivr.console.menu import distinct_prompts
from ivr.console.store import engine, session_scope
from tests.console.conftest import OPERATOR, OTHER, console_post
from tests.console.test_console_postgres import postgres_url  # noqa: F401 (a fixture)

UK_SIGNS = "Щоб почути ознаки торгівлі людьми, натисніть %(key)s."


def totals(console: FlaskClient) -> dict[str, tuple[int, ...]]:
    """What each page says of Ukrainian: (ready, of how many) and the review buckets."""
    overview = console.get("/console/").get_data(as_text=True)
    row = overview[overview.index('lang=uk"') if 'lang=uk"' in overview else
                   overview.index("/prompts/uk"):]
    ready, total = map(int, re.search(r"<td>(\d+) of (\d+)", row).groups())  # type: ignore[union-attr]
    review = console.get("/console/reviews?lang=uk").get_data(as_text=True)
    waiting, reviewed, missing = (int(re.search(rf"<strong>(\d+)</strong> {what}", review)
                                      .group(1))  # type: ignore[union-attr]
                                  for what in ("waiting", "reviewed", "not translated"))
    script = console.get("/console/script?lang=uk").get_data(as_text=True)
    s_total, s_ready, s_waiting, s_missing = map(int, re.search(  # type: ignore[union-attr]
        r"(\d+) prompts: (\d+) ready, (\d+) waiting for review, (\d+) not translated",
        script).groups())
    return {"overview": (ready, total), "review": (reviewed, waiting + reviewed + missing),
            "script": (s_ready, s_total), "buckets": (waiting, missing, s_waiting, s_missing)}


def state_of(console: FlaskClient, prompt_id: str) -> dict[str, str]:
    review = console.get("/console/reviews?lang=uk").get_data(as_text=True)
    reviewed = review[review.index('id="reviewed"'):review.index('id="missing"')]
    bucket = "reviewed" if f">{prompt_id}</code>" in reviewed else "waiting"
    script = console.get("/console/script?lang=uk").get_data(as_text=True)
    line = script[script.index(f">{prompt_id}</code>"):]
    state = re.search(r"<td>([a-z ]+)[,;]", line).group(1)  # type: ignore[union-attr]
    menu = console.get("/console/menu?lang=uk").get_data(as_text=True)
    badge = menu[menu.index(f"{prompt_id}"):][:3000]
    return {"review": bucket, "script": state,
            "menu": "approved in the console" if "approved in the console" in badge
            else "fuzzy" if "fuzzy (not reviewed)" in badge else "other"}


def test_every_page_agrees_before_and_after_an_approval(console_app: Flask,
                                                        console: FlaskClient) -> None:
    prompts = len(distinct_prompts(console_app.extensions["hotline"].profile))
    before = totals(console)
    assert before["overview"][1] == before["review"][1] == before["script"][1] == prompts
    assert before["overview"][0] == before["review"][0] == before["script"][0]
    assert state_of(console, "main.signs") == {"review": "waiting", "script": "fuzzy",
                                               "menu": "fuzzy"}
    hotline = console_app.extensions["hotline"]
    with console_app.app_context(), session_scope() as db:
        draft = save_draft(db, hotline, OPERATOR, "uk", "main.signs", UK_SIGNS)
        approve(db, hotline, OTHER, draft.id)
    with console_app.app_context():
        console_app.extensions["published"].refresh(engine())
    after = totals(console)
    assert after["overview"] == after["review"] == after["script"]
    assert after["overview"] == (before["overview"][0] + 1, prompts)
    assert after["buckets"][0] == after["buckets"][2]  # waiting: Review == Script
    assert state_of(console, "main.signs") == {"review": "reviewed", "script": "approved",
                                               "menu": "approved in the console"}


def test_ids_out_of_range_are_404_or_no_such_row(console_app: Flask,
                                                 console: FlaskClient) -> None:
    for huge in ("99999999999", "2147483648", "0", "-1", "1e9", "٣"):
        assert console.get(f"/console/recordings/{huge}.wav").status_code == 404, huge
        assert console.get(f"/console/messages/{huge}/audio").status_code == 404, huge
        page = "/console/prompts/uk/main.talk"
        answer = console_post(console, page, page + "/approve", {"version": huge})
        assert answer.status_code == 302, huge
        assert "There is no such draft." in console.get(page).get_data(as_text=True)


def test_ids_out_of_range_on_postgresql_are_not_a_database_error(
        make_app: Callable[..., Flask], postgres_url: str) -> None:  # noqa: F811
    """On PostgreSQL an id past 2^31 - 1 is refused by the server (the 503 of issue #22)."""
    from ivr.console.accounts import add_operator
    from ivr.storage.db import upgrade
    from tests.console.conftest import PASSWORD, sign_in

    app = make_app(DATABASE_URL=postgres_url)
    upgrade(postgres_url)
    with app.app_context(), session_scope() as db:
        add_operator(db, OPERATOR, PASSWORD)
    client = app.test_client()
    sign_in(client)
    page = "/console/prompts/uk/main.talk"
    answer = console_post(client, page, page + "/approve", {"version": "99999999999"})
    assert answer.status_code == 302
    assert client.get("/console/recordings/99999999999.wav").status_code == 404
    app.extensions["events"].engine.dispose()
