"""`ivr content export|import`: approved texts and recordings to the files and back."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from babel.messages.pofile import read_po
from flask import Flask

from ivr.console.accounts import add_operator
from ivr.console.editing import approve, history, live_text, save_draft
from ivr.console.models import PromptRecording
from ivr.console.recording import telephone_audio
from ivr.console.store import session_scope
from ivr.content import i18n
from ivr.content.audio import read_manifest, text_hash
from tests.console.conftest import OPERATOR, OTHER, PASSWORD, record_live
from tests.console.test_console_recordings import speech_like

UK_CORRECTED = "Щоб поговорити з %(hotline)s просто зараз, натисніть %(key)s."
UK_FROM_TRANSLATOR = "Щоб негайно поговорити з %(hotline)s, натисніть %(key)s."
LB_TALK_FILLED = "Fir elo mat INFOTRAITE ze schwätzen, dréckt 1."
TALK_SOURCE = "To talk to %(hotline)s now, press %(key)s."


def copy_catalogs(target: Path) -> Path:
    for lang in ("uk", "lb"):
        folder = target / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        shutil.copy(i18n.LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po", folder)
    return target


def talk_entry(locales: Path, lang: str) -> tuple[str, bool]:
    with (locales / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        message = read_po(handle).get(TALK_SOURCE, context="main.talk")
    assert message is not None
    return str(message.string), message.fuzzy


def test_export_then_import_into_a_new_database(console_app: Flask, tmp_path: Path,
                                                 make_app: Callable[..., Flask]) -> None:
    locales, prompts = copy_catalogs(tmp_path / "locales"), tmp_path / "prompts"
    h = console_app.extensions["hotline"]
    audio = telephone_audio(speech_like(), "take.wav")
    with console_app.app_context(), session_scope() as db:
        approve(db, h, OTHER, save_draft(db, h, OPERATOR, "uk", "main.talk", UK_CORRECTED).id)
        record_live(db, h, "lb", "main.talk", audio, "browser")
    assert talk_entry(locales, "uk")[1] is True  # machine-made, unreviewed
    args = ["--locales", str(locales), "--prompts", str(prompts)]
    result = console_app.test_cli_runner().invoke(args=["content", "export", *args])
    assert result.exit_code == 0, result.output
    assert result.output == "uk: 1 text(s) exported\n1 recording(s) exported\n"
    assert talk_entry(locales, "uk") == (UK_CORRECTED, False)
    assert (prompts / "lb" / "main.talk.wav").read_bytes() == audio.wav
    [entry] = read_manifest(prompts)
    assert (entry.lang, entry.prompt_id, entry.source, entry.sha256, entry.text) == (
        "lb", "main.talk", "recorded", text_hash(LB_TALK_FILLED), LB_TALK_FILLED)
    again = console_app.test_cli_runner().invoke(args=["content", "export", *args])
    assert again.output == "0 recording(s) exported\n"  # nothing new

    fresh = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    with fresh.app_context(), session_scope() as db:
        add_operator(db, OPERATOR, PASSWORD)
    imported = fresh.test_cli_runner().invoke(args=["content", "import", *args])
    assert imported.exit_code == 0, imported.output
    # The recording comes back; the text needs nothing: the catalog says it, reviewed.
    assert imported.output == "1 recording(s) imported\n"
    with fresh.app_context(), session_scope() as db:
        [row] = db.query(PromptRecording).all()
        assert (row.lang, row.prompt_id, row.wav, row.text) == (
            "lb", "main.talk", audio.wav, LB_TALK_FILLED)


def test_import_takes_a_translator_s_reviewed_change(console_app: Flask, tmp_path: Path) -> None:
    locales, prompts = copy_catalogs(tmp_path / "locales"), tmp_path / "prompts"
    h = console_app.extensions["hotline"]
    with console_app.app_context(), session_scope() as db:
        approve(db, h, OTHER, save_draft(db, h, OPERATOR, "uk", "main.talk", UK_CORRECTED).id)
    path = locales / "uk" / "LC_MESSAGES" / "messages.po"
    text = path.read_text(encoding="utf-8")
    old = ('#, fuzzy, python-format\nmsgctxt "main.talk"\n'
           'msgid "To talk to %(hotline)s now, press %(key)s."\n'
           'msgstr "%(hotline)s — щоб поговорити зараз, натисніть %(key)s."')
    assert old in text
    path.write_text(text.replace(old, (
        '#, python-format\nmsgctxt "main.talk"\n'
        'msgid "To talk to %(hotline)s now, press %(key)s."\n'
        f'msgstr "{UK_FROM_TRANSLATOR}"')), encoding="utf-8")
    args = ["--locales", str(locales), "--prompts", str(prompts)]
    result = console_app.test_cli_runner().invoke(args=["content", "import", *args])
    assert result.output == "uk: 1 text(s) imported\n0 recording(s) imported\n"
    with console_app.app_context(), session_scope() as db:
        assert live_text(db, h, "uk", "main.talk").text == UK_FROM_TRANSLATOR
        newest = history(db, h, "uk", "main.talk")[0]
        assert (newest.author, newest.previous) == ("ivr content import", UK_CORRECTED)
