"""Correcting texts in the console: placeholders, drafts, approval, history, restore, publish."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine

from ivr.console.editing import (
    EditError,
    approve,
    history,
    live_text,
    placeholder_problems,
    preview,
    restore,
    save_draft,
    single_sign_off,
)
from ivr.console.published import PublishedContent
from ivr.console.store import engine, session_scope
from ivr.content.profile_loader import load_profile
from ivr.voice.hotline import Hotline
from ivr.voice.state import CallState
from tests.conftest import PROFILES
from tests.console.conftest import OPERATOR, OTHER, OTHER_PASSWORD, console_post, sign_in

TALK_SOURCE = "To talk to %(hotline)s now, press %(key)s."
UK_CATALOG_TALK = "%(hotline)s — щоб поговорити зараз, натисніть %(key)s."
UK_CORRECTED = "Щоб поговорити з %(hotline)s просто зараз, натисніть %(key)s."
UK_CORRECTED_FILLED = "Щоб поговорити з INFOTRAITE просто зараз, натисніть 1."


def hotline_of(app: Flask) -> Hotline:
    return app.extensions["hotline"]


def published_of(app: Flask) -> PublishedContent:
    return app.extensions["published"]


def test_placeholders_must_be_the_english_ones_and_nothing_else() -> None:
    assert placeholder_problems(TALK_SOURCE, UK_CORRECTED) == []
    assert placeholder_problems(TALK_SOURCE, "Щоб поговорити з %(hotline)s, натисніть.") == [
        "%(key)s is missing: the English has it."]
    assert placeholder_problems(TALK_SOURCE, "%(hotline)s %(key)s %(number)s") == [
        "%(number)s is not in the English: remove it."]
    assert placeholder_problems(TALK_SOURCE, "%(hotline)s %(key)s %(key)") == [
        "Something looks like a placeholder but is not one: write placeholders exactly as "
        "%(name)s, as in the English."]
    assert placeholder_problems(TALK_SOURCE, "%(hotline)s {key} %(key)s") != []
    assert placeholder_problems("No placeholders.", "Без заповнювачів.") == []


def test_draft_then_approval_by_another_operator(console_app: Flask) -> None:
    h = hotline_of(console_app)
    with console_app.app_context(), session_scope() as db:
        assert live_text(db, h, "uk", "main.talk").text == UK_CATALOG_TALK
        draft = save_draft(db, h, OPERATOR, "uk", "main.talk", UK_CORRECTED)
        assert draft.state == "draft" and draft.previous == UK_CATALOG_TALK
        with pytest.raises(EditError, match="Another operator must approve"):
            approve(db, h, OPERATOR, draft.id)
        approve(db, h, OTHER, draft.id)
        assert live_text(db, h, "uk", "main.talk").text == UK_CORRECTED
        assert live_text(db, h, "uk", "main.talk").origin == "approved"
    # Callers get it only once the snapshot is refreshed: never from the database directly.
    assert h.prompter.text("uk", "main.talk", {"key": "1"}) == (
        "INFOTRAITE — щоб поговорити зараз, натисніть 1.", "uk")
    with console_app.app_context():
        assert published_of(console_app).refresh(engine())
    assert h.prompter.text("uk", "main.talk", {"key": "1"}) == (UK_CORRECTED_FILLED, "uk")


def test_wrong_placeholders_and_unchanged_text_are_refused(console_app: Flask) -> None:
    h = hotline_of(console_app)
    with console_app.app_context(), session_scope() as db:
        with pytest.raises(EditError, match=r"%\(key\)s is missing"):
            save_draft(db, h, OPERATOR, "uk", "main.talk", "Щоб поговорити, натисніть.")
        with pytest.raises(EditError, match="no such prompt"):
            save_draft(db, h, OPERATOR, "uk", "main.nothing", UK_CORRECTED)
        with pytest.raises(EditError, match="translated languages"):
            save_draft(db, h, OPERATOR, "en", "main.talk", UK_CORRECTED)
        with pytest.raises(EditError, match="Write the translation"):
            save_draft(db, h, OPERATOR, "uk", "main.talk", "   ")


def test_single_sign_off_is_a_profile_option(make_app: Callable[..., Flask],
                                            tmp_path: Path) -> None:
    text = PROFILES["luxembourg"].read_text(encoding="utf-8")
    single = tmp_path / "single.toml"
    single.write_text(text + "\n[console]\nsingle_sign_off = true\n", encoding="utf-8")
    assert single_sign_off(load_profile(single)) is True
    assert single_sign_off(load_profile(PROFILES["luxembourg"])) is False
    app = make_app(str(single))
    h = hotline_of(app)
    with app.app_context(), session_scope() as db:
        draft = save_draft(db, h, OPERATOR, "uk", "main.talk", UK_CORRECTED)
        assert approve(db, h, OPERATOR, draft.id).approved_by == OPERATOR


def test_history_keeps_who_when_old_and_new_and_restores(console_app: Flask) -> None:
    h = hotline_of(console_app)
    second = "Щоб поговорити з %(hotline)s, натисніть %(key)s."
    with console_app.app_context(), session_scope() as db:
        approve(db, h, OTHER, save_draft(db, h, OPERATOR, "uk", "main.talk", UK_CORRECTED).id)
        approve(db, h, OPERATOR, save_draft(db, h, OTHER, "uk", "main.talk", second).id)
        versions = history(db, h, "uk", "main.talk")
        assert [(v.author, v.approved_by, v.previous, v.text, v.state) for v in versions] == [
            (OTHER, OPERATOR, UK_CORRECTED, second, "approved"),
            (OPERATOR, OTHER, UK_CATALOG_TALK, UK_CORRECTED, "replaced")]
        assert all(v.created_at is not None and v.approved_at is not None for v in versions)
        # Back to the catalog's text from before any change: a draft, approved like any other.
        restored = restore(db, h, OPERATOR, versions[-1].id, previous=True)
        assert (restored.text, restored.state) == (UK_CATALOG_TALK, "draft")
        assert restored.note is not None and restored.note.startswith(
            f"restores the text before {OPERATOR}'s change of ")
        approve(db, h, OTHER, restored.id)
        assert live_text(db, h, "uk", "main.talk").text == UK_CATALOG_TALK


def test_preview_fills_the_placeholders_as_the_engine_does(console_app: Flask) -> None:
    h = hotline_of(console_app)
    assert preview(h, "uk", "main.talk", UK_CORRECTED) == UK_CORRECTED_FILLED
    assert preview(h, "uk", "language.option", "Українською натисніть %(key)s.") == (
        "Українською натисніть 6.")


def test_another_worker_picks_up_an_approval_at_its_refresh(
        make_app: Callable[..., Flask]) -> None:
    first, second = make_app(), make_app()  # two workers, one database
    with first.app_context(), session_scope() as db:
        from ivr.console.accounts import add_operator

        add_operator(db, OPERATOR, "correct horse battery staple")
        h = hotline_of(first)
        approve(db, h, OTHER, save_draft(db, h, OPERATOR, "uk", "main.talk", UK_CORRECTED).id)
    other = hotline_of(second)
    assert other.prompter.text("uk", "main.talk", {"key": "1"})[0] != UK_CORRECTED_FILLED
    with second.app_context():
        assert published_of(second).refresh(engine())
    assert other.prompter.text("uk", "main.talk", {"key": "1"}) == (UK_CORRECTED_FILLED, "uk")


def test_a_database_outage_keeps_the_last_snapshot(console_app: Flask, tmp_path: Path) -> None:
    h = hotline_of(console_app)
    with console_app.app_context(), session_scope() as db:
        approve(db, h, OTHER, save_draft(db, h, OPERATOR, "uk", "main.talk", UK_CORRECTED).id)
    published = published_of(console_app)
    with console_app.app_context():
        assert published.refresh(engine())
    loaded = published.snapshot
    gone = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}")
    assert published.refresh(gone) is False and published.refresh(gone) is False
    assert published.failures == 2 and published.snapshot is loaded
    assert h.prompter.text("uk", "main.talk", {"key": "1"}) == (UK_CORRECTED_FILLED, "uk")


def test_edit_and_approve_through_the_pages(console_app: Flask, console: FlaskClient) -> None:
    page = "/console/prompts/uk/main.talk"
    shown = console.get(page)
    assert shown.status_code == 200
    assert shown.headers["Permissions-Policy"] == "camera=(), microphone=(self), geolocation=()"
    assert "media-src 'self' blob:;" in shown.headers["Content-Security-Policy"]
    assert UK_CATALOG_TALK in shown.get_data(as_text=True)
    previewed = console_post(console, page, page, {"text": "натисніть %(key)s %(x)s",
                                                   "action": "preview"})
    body = previewed.get_data(as_text=True)
    assert "%(hotline)s is missing: the English has it." in body
    assert "натисніть 1 %(x)s" in body
    refused = console_post(console, page, page, {"text": "натисніть", "action": "save"})
    assert refused.status_code == 400
    saved = console_post(console, page, page, {"text": UK_CORRECTED, "action": "save"})
    assert saved.status_code == 302
    assert "Another operator approves your draft." in console.get(page).get_data(as_text=True)
    other = console_app.test_client()
    sign_in(other, OTHER, OTHER_PASSWORD)
    text = other.get(page).get_data(as_text=True)
    version = text.split('name="version" value="')[1].split('"')[0]
    approved = console_post(other, page, page + "/approve", {"version": version})
    assert approved.status_code == 302
    assert "approved. Callers hear it within a minute." in other.get(page).get_data(as_text=True)
    # This worker published at once.
    assert hotline_of(console_app).prompter.text("uk", "main.talk", {"key": "1"}) == (
        UK_CORRECTED_FILLED, "uk")


def test_try_it_hears_a_draft_only_when_asked(console_app: Flask,
                                              console: FlaskClient) -> None:
    with console_app.app_context(), session_scope() as db:
        save_draft(db, hotline_of(console_app), OPERATOR, "uk", "main.talk", UK_CORRECTED)
    console_post(console, "/console/try", "/console/try", {"command": "start"})
    plain = console_post(console, "/console/try", "/console/try", {"command": "press", "key": "6"})
    assert UK_CORRECTED_FILLED not in plain.get_data(as_text=True)
    assert "INFOTRAITE — щоб поговорити зараз, натисніть 1." in plain.get_data(as_text=True)
    console_post(console, "/console/try", "/console/try", {"command": "start", "drafts": "on"})
    step = console_post(console, "/console/try", "/console/try", {"command": "press", "key": "6"})
    assert UK_CORRECTED_FILLED in step.get_data(as_text=True)


def test_the_call_menu_speaks_the_approved_text_after_a_refresh(console_app: Flask) -> None:
    h = hotline_of(console_app)
    main_menu = CallState(lang="uk", node="main")
    before = h.engine.menu(main_menu).twiml  # rendered once, then kept by the engine
    assert "INFOTRAITE — щоб поговорити зараз, натисніть 1." in before
    with console_app.app_context(), session_scope() as db:
        approve(db, h, OTHER, save_draft(db, h, OPERATOR, "uk", "main.talk", UK_CORRECTED).id)
    # Not yet: the call path reads no database.
    assert h.engine.menu(main_menu).twiml == before
    with console_app.app_context():
        published_of(console_app).refresh(engine())
    assert UK_CORRECTED_FILLED in h.engine.menu(main_menu).twiml
