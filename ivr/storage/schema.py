"""Alembic helpers: run the migrations, and tell whether a database is at their head."""

from __future__ import annotations

import ast
import fcntl
import functools
import logging
import re
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ivr.storage.engines import make_engine, within

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
CHECK_DEADLINE_S = 5.0
UPGRADE_HINT = "run `ivr db upgrade` (the Procfile's release step)"


def alembic_config(url: str) -> Any:
    """Alembic's configuration for this database, without needing alembic.ini's location."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Run the migrations up to `revision` (creates every table on an empty database).

    "heads" by default: migrations written in parallel on branches all apply.
    """
    from alembic import command

    command.upgrade(alembic_config(url), revision)


@functools.cache
def _scripts() -> Any:
    """The migration scripts, read once per process (they do not change while it runs)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(""))


def stamp_heads(engine: Engine) -> None:
    """Mark a database made by create_all (tests) as migrated."""
    from alembic.migration import MigrationContext

    with engine.begin() as connection:
        MigrationContext.configure(connection).stamp(_scripts(), "heads")


# The web process only checks where a database is, and alembic with its templates costs a
# worker about 10 MB: so the check reads the scripts' revision ids and the version table
# itself (tests/test_storage.py compares both with alembic's own answers).
_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(.+)$", re.MULTILINE)


@functools.cache
def expected_heads() -> set[str]:
    """The revisions no other migration script builds on."""
    revisions: set[str] = set()
    below: set[str] = set()
    for script in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        for name, value in _REVISION.findall(script.read_text()):
            found = ast.literal_eval(value.strip())
            ids = {found} if isinstance(found, str) else set(found or ())
            (revisions if name == "revision" else below).update(ids)
    return revisions - below


def _current_heads(url: str) -> set[str]:
    """The revisions alembic's version table holds (none: the database was never migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return set()
            return set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


def schema_problem(url: str) -> str | None:
    """Why this database cannot serve the app (unreachable, not migrated), or None."""
    try:
        current = within(CHECK_DEADLINE_S, _current_heads, url)
    except TimeoutError:
        return "the database did not answer within 5 s"
    except SQLAlchemyError as exc:
        return f"the database cannot be reached ({type(exc).__name__})"
    expected = expected_heads()
    if current == expected:
        return None
    if not current:
        return f"the database has no tables yet: {UPGRADE_HINT}"
    return (f"the database is at migration {', '.join(sorted(current))}, the code needs "
            f"{', '.join(sorted(expected))}: {UPGRADE_HINT}")


def upgrade_embedded(url: str, sqlite_path: Path) -> None:
    """Upgrade the local SQLite file, one process at a time (gunicorn starts several)."""
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    with open(sqlite_path.with_suffix(".migrating"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _current_heads(url) != expected_heads():
                log.info("upgrading the local SQLite database to the latest migration")
                upgrade(url)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class SchemaWatch:
    """The database's readiness for /healthz, checked at most every `interval` seconds."""

    def __init__(self, url: str, interval: float = 10.0) -> None:
        self.url = url
        self.interval = interval
        self._checked_at = float("-inf")
        self._problem: str | None = None

    def problem(self) -> str | None:
        import time

        now = time.monotonic()
        # A problem is checked again at every call, so the fix shows at once.
        if self._problem is not None or now - self._checked_at >= self.interval:
            self._problem = schema_problem(self.url)
            self._checked_at = now
        return self._problem

    def set(self, problem: str | None) -> None:
        """The answer of a check made elsewhere (at start)."""
        import time

        self._problem, self._checked_at = problem, time.monotonic()
