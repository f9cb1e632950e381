"""Commands for the stored data: `ivr db upgrade`, `ivr db new-key`, `ivr db rotate-numbers`,
`ivr purge`."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from cryptography.fernet import Fernet
from flask import current_app
from flask.cli import with_appcontext

from ivr import db


@click.group("db")
def db_group() -> None:
    """The hotline's database: migrations and keys."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def upgrade(revision: str) -> None:
    """Create or update every table (runs the Alembic migrations)."""
    db.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at revision {revision}")


@db_group.command("new-key")
def new_key() -> None:
    """Print a new Fernet key for NUMBER_ENCRYPTION_KEY."""
    click.echo(Fernet.generate_key().decode())


@db_group.command("rotate-numbers")
@with_appcontext
def rotate_numbers() -> None:
    """Re-encrypt every stored number with the first key of NUMBER_ENCRYPTION_KEY."""
    channel = current_app.extensions["sms"]
    count = current_app.extensions["sms_store"].rotate_numbers(channel.vault.rotate)
    click.echo(f"re-encrypted {count} stored number(s) with the newest key")


@click.command("purge")
@with_appcontext
def purge() -> None:
    """Delete SMS cases and voice-message references older than the retention period."""
    profile = current_app.extensions["hotline"].profile
    clock = current_app.config.get("CLOCK")
    now = clock() if clock else datetime.now(UTC)
    engine = db.make_engine(current_app.config["DATABASE_URL"])
    try:
        done = db.purge(engine, now, profile.retention_days)
    finally:
        engine.dispose()
    click.echo(f"older than {profile.retention_days} days: deleted {done.cases} SMS case(s), "
               f"{done.voice_messages} voice message reference(s), {done.senders} language "
               f"memory(ies), {done.deliveries} delivery id(s)")


@click.group("sms")
def sms_group() -> None:
    """The SMS channel."""


@sms_group.command("reply")
@click.argument("kind", type=click.Choice(["help", "signs", "police", "languages", "ack",
                                           "stopped", "started"]))
@click.argument("lang")
@with_appcontext
def reply(kind: str, lang: str) -> None:
    """Print a reply as a sender gets it (e.g. for Twilio's Advanced Opt-Out HELP reply)."""
    from ivr.sms_text import count_segments

    channel = current_app.extensions["sms"]
    if lang not in channel.profile.languages:
        raise click.BadParameter(f"{lang!r} is not one of {', '.join(channel.profile.languages)}",
                                 param_hint="LANG")
    text = channel.reply_text(lang, f"sms.{kind}", keywords=channel.keyword_list())
    segments = count_segments(text)
    click.echo(text)
    click.echo(f"({segments.count} SMS, {segments.encoding}, {segments.units} units)", err=True)
