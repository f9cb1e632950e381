"""The console refuses text that cannot be spoken or sent, and publishes only what renders."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.console.editing import EditError, approve, live_text, save_draft
from ivr.console.models import PromptText
from ivr.console.published import hotline_key, sha256_of
from ivr.console.store import session_scope
from tests.console.conftest import OPERATOR, OTHER, console_post

MEASURED = ["\x0b", "\x0c", "\x1b", "\uffff"]  # what issue #22 pasted into approved texts


@pytest.mark.parametrize("char", MEASURED)
def test_the_console_refuses_a_draft_with_a_control_character(console_app: Flask,
                                                              char: str) -> None:
    hotline = console_app.extensions["hotline"]
    refused = rf"U\+{ord(char):04X}.* at character 5"
    with console_app.app_context(), session_scope() as db, \
            pytest.raises(EditError, match=refused):
        save_draft(db, hotline, OPERATOR, "fr", "greeting",
                   f"Allo{char} %(hotline)s %(emergency)s")


def test_the_console_page_shows_which_character_and_where(console_app: Flask,
                                                          console: Any) -> None:
    response = console_post(console, "/console/prompts/fr/greeting",
                            "/console/prompts/fr/greeting",
                            {"text": "%(hotline)s\x0b : %(emergency)s", "action": "save"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "U+000B (LINE TABULATION, a soft line break from a word processor) at character " \
           "12" in page


def test_a_stored_draft_that_does_not_render_is_not_approved_and_the_last_stays(
        console_app: Flask) -> None:
    """A draft saved before this rule (or written into the database by hand) holds U+000B:
    the approval is refused with the reason, and callers keep hearing what they heard."""
    hotline = console_app.extensions["hotline"]
    source = hotline.profile.prompt_text("greeting")
    with console_app.app_context(), session_scope() as db:
        before = live_text(db, hotline, "fr", "greeting")
        row = PromptText(hotline=hotline_key(hotline.profile), lang="fr", prompt_id="greeting",
                         source_hash=sha256_of(source), text="Allo\x0b %(hotline)s "
                         "%(emergency)s", previous=before.text, state="draft", author=OPERATOR)
        db.add(row)
        db.flush()
        with pytest.raises(EditError, match="U\\+000B"):
            approve(db, hotline, OTHER, row.id)
        assert live_text(db, hotline, "fr", "greeting") == before
        assert db.scalar(select(PromptText.state).where(PromptText.id == row.id)) == "draft"
