"""The faults of issue #10 against the Procfile's gunicorn on PostgreSQL, small: a proxy that
refuses and stalls, a worker killed, the same MessageSid twice at once, missing migrations.
bench/nothing_lost.py runs the same scenarios at the issue's sizes."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.services import postgres_or_skip

pytestmark = pytest.mark.slow  # starts gunicorn behind a faulty proxy

REPO = Path(__file__).resolve().parent.parent


def load_bench() -> ModuleType:
    path = REPO / "bench" / "nothing_lost.py"
    spec = importlib.util.spec_from_file_location("bench_nothing_lost", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_nothing_lost"] = module
    spec.loader.exec_module(module)
    return module


faults = load_bench()


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, str]]:
    postgres_or_skip()
    name = faults.create_database()
    proxy = faults.FaultProxy(faults.POSTGRES)
    try:
        with faults.server(faults.through_port(proxy.port, name),
                           tmp_path_factory.mktemp("gunicorn"), workers=2, threads=4) as hotline:
            yield hotline, proxy, name
    finally:
        proxy.close()
        faults.drop_database(name)


def test_an_outage_mid_burst_loses_no_text(rig: tuple[Any, Any, str]) -> None:
    hotline, proxy, _ = rig
    first, again = faults.outage_mid_burst(hotline, proxy, 12, 2.0)
    assert (first.lost, again.lost) == (0, 0), (first, again)
    assert "0 taken for a duplicate" in again.outcome


def test_a_killed_worker_loses_no_text(rig: tuple[Any, Any, str]) -> None:
    hotline, _, _ = rig
    row = faults.kill_mid_burst(hotline, 16, 1)
    assert row.lost == 0, row
    assert "1 times" in row.fault


def test_the_same_sid_at_once_on_two_workers_is_relayed_once(rig: tuple[Any, Any, str]
                                                            ) -> None:
    hotline, _, _ = rig
    row = faults.duplicates_at_once(hotline, 4)
    assert (row.lost, row.outcome) == (0, "4 of 4 relayed exactly once")


def test_duplicate_recording_callbacks_store_both_messages(rig: tuple[Any, Any, str]) -> None:
    hotline, _, name = rig
    row = faults.duplicate_recordings(hotline, name)
    assert row.lost == 0 and "[204, 204, 204]" in row.outcome


def test_a_stalled_database_never_holds_a_call(rig: tuple[Any, Any, str]) -> None:
    hotline, proxy, _ = rig
    row = faults.voice_while_held(hotline, proxy.stall, proxy.heal, "stalled", 3.0)
    assert row.lost == 0, row
    p99 = float(row.outcome.split("p99 ")[1].split(" s")[0])
    assert p99 < 1.0, row


def test_missing_migrations_are_said_and_lose_no_text(
        tmp_path: Path, rig: tuple[Any, Any, str]) -> None:
    row = faults.missing_migrations(tmp_path)
    assert row.lost == 0, row
    assert row.outcome.startswith("start log names `ivr db upgrade`: True; /healthz 503;")


def test_dropped_connections_lose_no_text(rig: tuple[Any, Any, str]) -> None:
    hotline, proxy, _ = rig

    def fault(i: int) -> None:
        if i in (3, 7):
            proxy.drop()  # every pooled connection is reset under the workers

    deliveries = faults.burst(hotline, 10, fault)
    assert faults.summary(deliveries)[0] == 0
