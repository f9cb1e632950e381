"""The servers tests and benchmarks use: TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL.

Those servers may hold someone else's data, so each test makes a database of its own and
writes Redis keys under a prefix of its own, and removes only those afterwards. Where no
server answers, the test is skipped and the reason printed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/13"


def postgres_url(database: str) -> str:
    """The URL of `database` on the test server (same user, host and driver)."""
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


def through_port(port: int, database: str) -> str:
    """The URL of `database` reached through a proxy on this machine's `port`."""
    return make_url(postgres_url(database)).set(host="127.0.0.1", port=port).render_as_string(
        hide_password=False)


def postgres_address() -> tuple[str, int]:
    """The test server's host and port (where a fault proxy forwards to)."""
    url = make_url(POSTGRES_URL)
    return url.host or "127.0.0.1", url.port or 5432


def libpq_url(url: str) -> str:
    """`url` as psycopg takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _skip(reason: str) -> None:
    print(f"SKIPPED: {reason}")
    pytest.skip(reason)


def postgres_or_skip() -> str:
    """The test server's URL, or a skip (the reason printed) when no server answers."""
    import psycopg

    try:
        with psycopg.connect(libpq_url(POSTGRES_URL), connect_timeout=3):
            return POSTGRES_URL
    except psycopg.Error as exc:
        where = make_url(POSTGRES_URL).render_as_string(hide_password=True)
        _skip(f"no PostgreSQL server answers at {where} ({type(exc).__name__}; "
              "TEST_DATABASE_URL names another)")
        raise AssertionError("unreachable") from exc


def create_database(name_hint: str) -> str:
    """A new, empty database of this test's own on the test server."""
    import psycopg

    name = f"{name_hint}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(postgres_or_skip()), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return postgres_url(name)


def drop_database(url: str) -> None:
    """Drop a database create_database made (never any other)."""
    import psycopg

    name = make_url(url).database or ""
    assert "_" in name and name != make_url(POSTGRES_URL).database, name
    with psycopg.connect(libpq_url(POSTGRES_URL), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_database(name_hint: str) -> Iterator[str]:
    """A new database on the test server, dropped afterwards."""
    url = create_database(name_hint)
    try:
        yield url
    finally:
        drop_database(url)


@dataclass(frozen=True)
class RedisKeys:
    """A Redis server and the prefix every key of one test starts with."""

    url: str
    prefix: str

    def settings(self) -> dict[str, str]:
        """The app's settings that put its limits and rings here."""
        return {"RATELIMIT_STORAGE_URI": self.url, "REDIS_KEY_PREFIX": self.prefix}

    def keys(self) -> list[str]:
        import redis

        client = redis.Redis.from_url(self.url, decode_responses=True)
        return list(client.scan_iter(match=f"*{self.prefix}*", count=1000))

    def delete(self) -> int:
        """Delete this test's keys (the app's and the limits library's prefixes both hold
        the test's prefix somewhere in the key); any other key is left."""
        import redis

        found = self.keys()
        if found:
            redis.Redis.from_url(self.url).delete(*found)
        return len(found)


def redis_or_skip() -> str:
    """The test Redis's URL, or a skip (the reason printed) when none answers."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        _skip(f"no Redis answers at {REDIS_URL} ({type(exc).__name__}; TEST_REDIS_URL "
              "names another)")
    return REDIS_URL


@contextmanager
def redis_keys(name_hint: str = "test") -> Iterator[RedisKeys]:
    """A key prefix of this test's own on the test Redis; its keys deleted afterwards."""
    keys = RedisKeys(redis_or_skip(), f"ivrtest-{name_hint}-{uuid.uuid4().hex[:12]}")
    try:
        yield keys
    finally:
        keys.delete()
