"""Commands for the stored data: `ivr db upgrade|check|new-key|rotate-numbers`, `ivr purge`,
`ivr recordings sync`, `ivr sms reply|try`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from cryptography.fernet import Fernet
from flask import current_app
from flask.cli import with_appcontext

from ivr import LOCAL_STAFF_PIN_FILE
from ivr.sms.channel import SMS_CHANNEL, SMS_STORE
from ivr.storage import db
from ivr.voice.hotline import HOTLINE


@click.group("db")
def db_group() -> None:
    """The hotline's database: migrations and keys."""


@db_group.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@with_appcontext
def upgrade(revision: str) -> None:
    """Create or update every table (runs the Alembic migrations)."""
    db.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at revision {revision}")


@db_group.command("check")
@with_appcontext
def check() -> None:
    """Exit 1 unless the database is reachable and at the code's migrations."""
    problem = db.schema_problem(current_app.config["DATABASE_URL"])
    if problem:
        raise click.ClickException(problem)
    click.echo("database ready: at the latest migration")


@db_group.command("new-key")
def new_key() -> None:
    """Print a new Fernet key for NUMBER_ENCRYPTION_KEY."""
    click.echo(Fernet.generate_key().decode())


@db_group.command("rotate-numbers")
@with_appcontext
def rotate_numbers() -> None:
    """Re-encrypt every stored number with the first key of NUMBER_ENCRYPTION_KEY."""
    channel = SMS_CHANNEL.get()
    count = SMS_STORE.get().rotate_numbers(channel.vault.rotate)
    click.echo(f"re-encrypted {count} stored number(s) with the newest key")


@click.command("purge")
@with_appcontext
def purge() -> None:
    """Delete SMS cases and voice-message references older than the retention period."""
    profile = HOTLINE.get().profile
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


@click.group("recordings")
def recordings_group() -> None:
    """Voice messages kept at Twilio."""


@recordings_group.command("sync")
@click.option("--days", type=click.IntRange(1, 400), default=7, show_default=True,
              help="How far back to look (at most the profile's retention_days).")
@with_appcontext
def sync_recordings(days: int) -> None:
    """Store the reference of every recording of the account the app missed (a callback that
    failed during an outage), read through Twilio's REST API."""
    from ivr.settings import SETTINGS
    from ivr.storage.voice_messages import sync_recordings as sync
    from ivr.twilio_rest import rest_client

    sid, token = current_app.config["TWILIO_ACCOUNT_SID"], current_app.config["TWILIO_AUTH_TOKEN"]
    client = current_app.config.get("TWILIO_REST_CLIENT")
    if client is None:
        if not (sid and token):
            raise click.ClickException("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        settings = SETTINGS.get()
        client = rest_client(sid, token, settings.twilio_region, settings.twilio_edge)
    profile = current_app.extensions["hotline"].profile
    days = min(days, profile.retention_days)  # never bring back what `ivr purge` deleted
    clock = current_app.config.get("CLOCK")
    engine = db.make_engine(current_app.config["DATABASE_URL"])
    try:
        seen, added = sync(engine, client, days, clock() if clock else datetime.now(UTC))
    finally:
        engine.dispose()
    click.echo(f"last {days} day(s): {seen} recording(s) at Twilio, {added} reference(s) "
               "added")


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
    from ivr.sms.text import count_segments

    channel = SMS_CHANNEL.get()
    if lang not in channel.profile.languages:
        raise click.BadParameter(f"{lang!r} is not one of {', '.join(channel.profile.languages)}",
                                 param_hint="LANG")
    text = channel.reply_text(lang, f"sms.{kind}", keywords=channel.keyword_list())
    segments = count_segments(text)
    click.echo(text)
    click.echo(f"({segments.count} SMS, {segments.encoding}, {segments.units} units)", err=True)


@sms_group.command("try")
@click.argument("body")
@click.option("--from", "from_number", default="+380501234567", show_default=True,
              help="The sender's number (never stored in clear).")
@click.option("--staff", is_flag=True, help="Send from the helpline's first SMS phone.")
@with_appcontext
def try_message(body: str, from_number: str, staff: bool) -> None:
    """Text the hotline's /sms webhook as Twilio would, and show what it sends back.

    Uses the configured database (run `ivr db upgrade` first); nothing leaves the machine.
    """
    import xml.etree.ElementTree as ET
    from uuid import uuid4

    from twilio.request_validator import RequestValidator

    channel = SMS_CHANNEL.get()
    helplines = channel.profile.sms.helpline_numbers
    if staff:
        if not helplines:
            raise click.ClickException("the profile has no [sms] helpline_numbers")
        from_number = helplines[0]
    sender = f"helpline phone {from_number}" if from_number in helplines else "the person"
    pin_file = Path(current_app.instance_path) / LOCAL_STAFF_PIN_FILE
    if staff and current_app.config.get("LOCAL_MODE") and pin_file.exists():
        click.echo(f"(a staff reply is #CODE PIN text; local mode's PIN is in {pin_file})")
    identity = channel.vault.identity(from_number)
    opted_out_before = channel.store.opted_out(identity)
    form = {"MessageSid": "SM" + uuid4().hex, "From": from_number, "To": "+10000000000",
            "Body": body}
    headers = {}
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    base = (current_app.config.get("PUBLIC_BASE_URL") or "http://localhost").rstrip("/")
    if token:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
            base + "/sms", form)
    response = current_app.test_client().post("/sms", data=form, headers=headers,
                                              base_url=base)
    if response.status_code != 200:
        raise click.ClickException(f"the webhook answered {response.status_code}")
    if current_app.config["SMS_USE_REST_API"]:
        click.echo("(REST API mode: replies go through the SMS sender, not TwiML)")
    answered = False
    for message in ET.fromstring(response.get_data()).iter("Message"):
        to = message.get("to")
        answered = answered or not to
        who = sender if not to else f"helpline phone {to}" if to in helplines else "the person"
        click.echo(f"-> {who}: {message.text or ''}")
    match = channel.keywords.match(body)
    if not answered:
        why = (f" (Twilio answers {body.strip().upper()} itself, with its Advanced Opt-Out "
               "replies)" if match is not None and match.twilio_word else "")
        click.echo(f"-> {sender}: nothing from the hotline{why}")
    opted_out_after = channel.store.opted_out(identity)
    if opted_out_after and not opted_out_before:
        click.echo("now: this number has opted out; the hotline sends it nothing until it "
                   "texts START (its texts still reach the helpline)")
    elif opted_out_before and not opted_out_after:
        click.echo("now: this number has opted back in; helpline replies reach it again")
    elif match is not None and match.kind in ("stop", "start"):
        click.echo("unchanged: this number " + ("had already opted out" if opted_out_after
                                                 else "had not opted out"))
