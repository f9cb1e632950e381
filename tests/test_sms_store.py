"""The SMS store's edges: a claim's lease to the second, a claim released in between, the
opt-in's answer, a case at its expiry, and a case code that cannot be drawn."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from ivr.storage import sms_store
from ivr.storage.db import create_tables, make_engine
from ivr.storage.sms_store import BUSY, CLAIMED, DONE, SmsStore

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SmsStore]:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    create_tables(url)
    store = SmsStore(make_engine(url))
    yield store
    store.engine.dispose()


def test_a_claim_exactly_as_old_as_the_lease_is_still_its_workers(store: SmsStore) -> None:
    assert store.claim_delivery("SM1", T0) == CLAIMED
    assert store.claim_delivery("SM1", T0 + timedelta(seconds=10)) == BUSY  # CLAIM_LEASE
    assert store.claim_delivery("SM1", T0 + timedelta(seconds=10, microseconds=1)) == CLAIMED


def test_a_finished_message_is_never_taken_over(store: SmsStore) -> None:
    assert store.claim_delivery("SM1", T0) == CLAIMED
    store.finish_delivery("SM1")
    assert store.claim_delivery("SM1", T0 + timedelta(hours=1)) == DONE
    assert store.claim_delivery("SM2", T0) == CLAIMED  # another message: its own claim


def test_a_claim_released_between_the_insert_and_the_look_up_is_claimed(
        store: SmsStore) -> None:
    """Worker A holds SM1; worker B's insert fails; A releases before B looks the state up:
    B finds no row and must claim the message, not call it busy (nobody would handle it)."""
    assert store.claim_delivery("SM1", T0) == CLAIMED
    released: list[str] = []

    def release_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().startswith("SELECT sms_deliveries.state") and not released:
            cursor.execute("DELETE FROM sms_deliveries WHERE message_sid = 'SM1'")
            released.append("SM1")

    event.listen(store.engine, "before_cursor_execute", release_first)
    try:
        assert store.claim_delivery("SM1", T0 + timedelta(seconds=1)) == CLAIMED
    finally:
        event.remove(store.engine, "before_cursor_execute", release_first)
    assert released == ["SM1"]
    assert store.claim_delivery("SM1", T0 + timedelta(seconds=2)) == BUSY


def test_opt_in_says_whether_there_was_an_opt_out(store: SmsStore) -> None:
    assert store.opt_in("hash-1") is False
    assert store.opt_out("hash-1", T0) == []
    assert store.opted_out("hash-1")
    assert store.opt_in("hash-1") is True
    assert not store.opted_out("hash-1")
    assert store.opt_in("hash-1") is False


def test_a_case_is_open_to_the_last_second_of_its_expiry(store: SmsStore) -> None:
    first = store.case_for("hash-1", "enc", "en", "fr", T0, expiry_days=14)
    at_expiry = store.case_for("hash-1", "enc", None, "fr", T0 + timedelta(days=14), 14)
    assert at_expiry.code == first.code and at_expiry.language == "en"
    later = T0 + timedelta(days=28, microseconds=1)
    after = store.case_for("hash-1", "enc", None, "fr", later, 14)
    assert after.code != first.code and after.language == "fr"


def test_a_code_that_cannot_be_drawn_raises(store: SmsStore,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Every draw gives the code of a case already open: RuntimeError, never a case without
    # a code (the channel then relays the text masked, ivr/sms/channel.py).
    taken = store.case_for("hash-1", "enc", "en", "fr", T0, 14).code
    monkeypatch.setattr(sms_store, "new_code", lambda: taken)
    with pytest.raises(RuntimeError, match="could not draw a free case code"):
        store.case_for("hash-2", "enc", "en", "fr", T0, 14)
    found = store.find_case(taken)
    assert found is not None and found.number_hash == "hash-1"  # the open case is untouched
