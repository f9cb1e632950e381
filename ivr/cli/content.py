"""`ivr content export|import`: the console's texts and recordings to and from the files."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import inspect

from ivr.console.models import PromptText
from ivr.console.portable import Moved, export_content, import_content
from ivr.console.store import engine, session_scope
from ivr.content.audio import prompts_root
from ivr.content.i18n import LOCALES_DIR

content = AppGroup("content", help="Texts and recordings made in the console, to and from "
                                   "locales/ and prompts/.")

locales_option = click.option("--locales", type=click.Path(file_okay=False, path_type=Path),
                              default=None, help="Catalogs folder (default: locales/).")
prompts_option = click.option("--prompts", type=click.Path(file_okay=False, path_type=Path),
                              default=None, help="Prompt audio folder (default: "
                                                 "HOTLINE_PROMPTS_DIR, else prompts/).")


def _need_tables() -> None:
    if not inspect(engine()).has_table(PromptText.__tablename__):
        raise click.ClickException("the console's tables do not exist yet: "
                                   "run `ivr db upgrade` first")


def _report(moved: Moved, verb: str) -> None:
    for lang, count in sorted(moved.texts.items()):
        if count:
            click.echo(f"{lang}: {count} text(s) {verb}")
    click.echo(f"{moved.recordings} recording(s) {verb}")
    for reason in moved.skipped:
        click.echo(f"skipped: {reason}", err=True)


@content.command("export")
@locales_option
@prompts_option
def export_command(locales: Path | None, prompts: Path | None) -> None:
    """Write approved texts into locales/*.po (not fuzzy) and recordings into prompts/."""
    _need_tables()
    with session_scope() as db:
        moved = export_content(db, current_app.extensions["hotline"], locales or LOCALES_DIR,
                               prompts or prompts_root())
    _report(moved, "exported")


@content.command("import")
@locales_option
@prompts_option
def import_command(locales: Path | None, prompts: Path | None) -> None:
    """Bring reviewed catalog texts and recorded files the database lacks into it."""
    _need_tables()
    with session_scope() as db:
        moved = import_content(db, current_app.extensions["hotline"], locales or LOCALES_DIR,
                               prompts or prompts_root())
    _report(moved, "imported")
