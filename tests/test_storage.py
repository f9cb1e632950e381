"""Storage: migrations make the models' schema; numbers only encrypted; purge; key rotation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import Table, inspect, select
from sqlalchemy.orm import Session

from ivr.storage import db
from ivr.storage.crypto import NumberKeyError, NumberVault, local_key, parse_keys
from ivr.storage.db import SmsCase, SmsDelivery, SmsOptOut, SmsSender, VoiceMessage, make_engine
from tests.conftest import Clock
from tests.test_sms_support import (
    PERSON,
    STAFF,
    case_code,
    database_on,
    messages,
    send_sms,
    sms_app,
)

TABLES = {"events", "voice_messages", "sms_cases", "sms_opt_outs", "sms_senders",
          "sms_deliveries"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_on(request.param, tmp_path, "storage_test") as url:
        yield url


def test_the_migrations_create_every_table_exactly_as_the_models_say(
        empty_database: str) -> None:
    db.upgrade(empty_database)
    engine = make_engine(empty_database)
    try:
        assert TABLES <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection),
                                           db.Base.metadata)
        # Only tables a later migration adds (none of ours) may differ.
        assert [d for d in differences if _tables_in(d) & TABLES] == []
    finally:
        engine.dispose()


def _tables_in(difference: object) -> set[str]:
    """The tables one compare_metadata difference is about."""
    item = difference[0] if isinstance(difference, list) else difference
    names: set[str] = set()
    for part in item[1:] if isinstance(item, tuple) else ():
        if isinstance(part, str):
            names.add(part)
        elif isinstance(part, Table):
            names.add(part.name)
        elif isinstance(getattr(part, "table", None), Table):
            names.add(part.table.name)
    return names


def test_ivr_db_upgrade_makes_a_fresh_database_usable(make_app: Callable[..., Flask],
                                                      tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    app = make_app()
    app.config["DATABASE_URL"] = url  # the fixture made its own database's tables; not this one
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    names = set(inspect(make_engine(url)).get_table_names())
    assert TABLES | {"alembic_version"} <= names
    fresh = make_app(DATABASE_URL=url, NUMBER_ENCRYPTION_KEY=Fernet.generate_key().decode())
    replies = messages(send_sms(fresh.test_client(), "I need help with my employer"))
    assert len(replies) == 3


def test_numbers_are_stored_only_encrypted(make_app: Callable[..., Flask]) -> None:
    app = sms_app(make_app)
    send_sms(app.test_client(), "Please help me, I cannot leave")
    with Session(make_engine(app.config["DATABASE_URL"])) as session:
        [case] = session.scalars(select(SmsCase))
    assert PERSON not in case.number_encrypted and PERSON[1:] not in case.number_encrypted
    assert PERSON not in case.number_hash
    vault: NumberVault = app.extensions["sms"].vault
    assert vault.decrypt(case.number_encrypted) == PERSON
    assert case.number_hash == vault.identity(PERSON)


def _stored_cases(url: str) -> list[SmsCase]:
    with Session(make_engine(url)) as session:
        return list(session.scalars(select(SmsCase)))


def test_key_rotation_keeps_open_cases_working(make_app: Callable[..., Flask],
                                               tmp_path: Path) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    url = f"sqlite:///{tmp_path / 'rotate.sqlite3'}"
    before = sms_app(make_app, DATABASE_URL=url, NUMBER_ENCRYPTION_KEY=old_key)
    code = case_code(messages(send_sms(before.test_client(), "Can you call me back"))[0][1])
    # Step 1: the new key first, the old one still listed; re-encrypt what is stored.
    both = sms_app(make_app, DATABASE_URL=url, NUMBER_ENCRYPTION_KEY=f"{new_key},{old_key}")
    result = both.test_cli_runner().invoke(args=["db", "rotate-numbers"])
    assert result.exit_code == 0 and "re-encrypted 1" in result.output
    # Step 2: the old key dropped; the case still reaches the person.
    after = sms_app(make_app, DATABASE_URL=url, NUMBER_ENCRYPTION_KEY=new_key)
    replies = messages(send_sms(after.test_client(), f"#{code} yes", from_=STAFF))
    assert replies == [(PERSON, "yes")]
    [case] = _stored_cases(url)
    assert Fernet(new_key.encode()).decrypt(case.number_encrypted.encode()).decode() == PERSON


def test_a_reply_to_a_number_no_key_opens_tells_the_helpline(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lost.sqlite3'}"
    before = sms_app(make_app, DATABASE_URL=url)
    code = case_code(messages(send_sms(before.test_client(), "Are you there, hello"))[0][1])
    after = sms_app(make_app, DATABASE_URL=url,
                    NUMBER_ENCRYPTION_KEY=Fernet.generate_key().decode())
    replies = messages(send_sms(after.test_client(), f"#{code} hi", from_=STAFF))
    assert replies == [(None, f"Votre réponse au dossier #{code} n'a pas pu être envoyée.")]


def test_bad_encryption_keys_are_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(NumberKeyError, match="key 2 is not a Fernet key"):
        parse_keys(f"{Fernet.generate_key().decode()},not-a-key")
    with pytest.raises(NumberKeyError, match="empty"):
        parse_keys(" , ")
    key = local_key(tmp_path)
    assert local_key(tmp_path) == key and len(parse_keys(key)) == 1
    assert (tmp_path / "number_encryption_key").stat().st_mode & 0o077 == 0


def test_purge_leaves_nothing_older_than_the_retention_period(
        make_app: Callable[..., Flask], clock: Clock) -> None:
    app = sms_app(make_app)
    retention = app.extensions["hotline"].profile.retention_days
    now = clock().astimezone(UTC)
    url = app.config["DATABASE_URL"]
    ages = [timedelta(days=d) for d in (0, 1, retention - 1)] + [
        timedelta(days=retention, seconds=1), timedelta(days=retention + 1),
        timedelta(days=400)]
    with Session(make_engine(url)) as session, session.begin():
        for i, age in enumerate(ages):
            at = now - age
            session.add(SmsCase(code=f"C{i:03d}", number_encrypted="x", number_hash=f"h{i}",
                                language="fr", opened_at=at, last_activity_at=at,
                                state="open"))
            session.add(VoiceMessage(recording_sid=f"RE{i}",
                                     at=at, state="new"))
            session.add(SmsSender(number_hash=f"h{i}", language="fr", seen_at=at))
            session.add(SmsDelivery(message_sid=f"SM{i}", at=at))
            session.add(SmsOptOut(number_hash=f"h{i}", at=at))
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "deleted 3 SMS case(s), 3 voice message reference(s)" in result.output
    cutoff = now - timedelta(days=retention)
    with Session(make_engine(url)) as session:
        for model, column in ((SmsCase, SmsCase.last_activity_at), (VoiceMessage,
                              VoiceMessage.at), (SmsSender, SmsSender.seen_at),
                              (SmsDelivery, SmsDelivery.at)):
            kept = [db.as_utc(at) for at in session.scalars(select(column))]
            assert len(kept) == 3, model
            assert all(at >= cutoff for at in kept), model
        # Opt-outs are kept: forgetting one would message someone who said STOP.
        assert len(list(session.scalars(select(SmsOptOut)))) == len(ages)


def test_a_case_past_retention_is_gone_for_the_helpline_too(
        make_app: Callable[..., Flask], clock: Clock) -> None:
    app = sms_app(make_app)
    client = app.test_client()
    code = case_code(messages(send_sms(client, "I want to leave this job"))[0][1])
    clock.now = clock.now + timedelta(days=app.extensions["hotline"].profile.retention_days + 1)
    assert app.test_cli_runner().invoke(args=["purge"]).exit_code == 0
    # Gone from the database, not only refused: the purge ran on the app's clock.
    assert app.extensions["sms_store"].find_case(code) is None
    replies = messages(send_sms(client, f"#{code} hello", from_=STAFF))
    assert replies == [(None, f"Aucun dossier #{code} : votre réponse n'a pas été envoyée.")]
