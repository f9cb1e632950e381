"""The web process's schema check reads what alembic would, without importing alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.migration import MigrationContext

from ivr.storage.db import make_engine, schema_problem, upgrade
from ivr.storage.schema import _current_heads, _scripts, expected_heads


def test_the_expected_heads_are_alembics() -> None:
    assert expected_heads() == set(_scripts().get_heads())
    assert len(expected_heads()) == 1  # the migrations are one line


def test_the_current_heads_are_alembics_at_every_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert _current_heads(url) == set()
    assert schema_problem(url) == ("the database has no tables yet: run `ivr db upgrade` "
                                   "(the Procfile's release step)")
    for script in reversed(list(_scripts().walk_revisions())):
        upgrade(url, script.revision)
        engine = make_engine(url)
        with engine.connect() as connection:
            theirs = set(MigrationContext.configure(connection).get_current_heads())
        engine.dispose()
        assert _current_heads(url) == theirs == {script.revision}
        problem = schema_problem(url)
        assert (problem is None) == (script.revision in expected_heads()), problem


def test_a_started_app_has_not_imported_alembic(tmp_path: Path) -> None:
    """About 10 MB per worker (alembic, mako, pygments) that the web process never uses."""
    code = ("import sys; from ivr import create_app; create_app({'LOCAL_MODE': True, "
            "'TWILIO_AUTH_TOKEN': '', 'DATABASE_URL': sys.argv[1]}); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'mako'}))")
    done = subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp_path / 'x.sqlite3'}"],
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
