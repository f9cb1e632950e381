"""The argon2 cost: cheap only in a testing app, the standard cost everywhere else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from ivr.console.accounts import hash_password

pytestmark = pytest.mark.slow  # hashes passwords at full cost

STANDARD = "$argon2id$v=19$m=65536,t=3,p=4$"  # RFC 9106, low memory
CHEAPEST = "$argon2id$v=19$m=8,t=1,p=1$"


def test_the_test_suite_hashes_cheaply(make_app: Callable[..., Flask]) -> None:
    with make_app().app_context():
        assert hash_password("correct horse battery staple").startswith(CHEAPEST)


@pytest.mark.parametrize("cost", ["standard", None, ""])
def test_the_standard_cost_is_the_default(make_app: Callable[..., Flask],
                                          cost: str | None) -> None:
    with make_app(CONSOLE_PASSWORD_COST=cost).app_context():
        assert hash_password("correct horse battery staple").startswith(STANDARD)


@pytest.mark.parametrize("cost", ["cheapest", "weak", "0"])
def test_outside_testing_a_cheap_cost_is_refused(make_app: Callable[..., Flask],
                                                 caplog: pytest.LogCaptureFixture,
                                                 cost: str) -> None:
    with make_app(TESTING=False, CONSOLE_PASSWORD_COST=cost).app_context():
        assert hash_password("correct horse battery staple").startswith(STANDARD)
    assert "for tests only" in caplog.text


def test_without_an_app_the_standard_cost() -> None:
    assert hash_password("correct horse battery staple").startswith(STANDARD)
