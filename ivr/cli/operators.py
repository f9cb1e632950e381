"""`ivr operators add|password|list|disable` and `ivr i18n apply-reviews`: the console's data."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from ivr.console.accounts import AccountError, add_operator, set_password
from ivr.console.models import Operator
from ivr.console.reviews import apply_reviews
from ivr.console.store import engine, session_scope
from ivr.voice.hotline import HOTLINE

operators = AppGroup("operators", help="Console operator accounts.")


def _need_tables() -> None:
    if not inspect(engine()).has_table(Operator.__tablename__):
        raise click.ClickException("the console's tables do not exist yet: "
                                   "run `ivr db upgrade` first")


@operators.command("add")
@click.argument("name")
@click.password_option("--password", help="Asked for when not given (never echoed).")
def operators_add(name: str, password: str) -> None:
    """Create an operator account; the password is stored only as an argon2 hash."""
    _need_tables()
    try:
        with session_scope() as db:
            add_operator(db, name, password)
    except (AccountError, IntegrityError) as exc:
        raise click.ClickException(str(exc) if isinstance(exc, AccountError)
                                   else f"an operator named {name!r} already exists") from exc
    click.echo(f"operator {name} added")


@operators.command("password")
@click.argument("name")
@click.password_option("--password", help="Asked for when not given (never echoed).")
def operators_password(name: str, password: str) -> None:
    """Set an operator's password (signs them out everywhere)."""
    _need_tables()
    with session_scope() as db:
        found = db.scalar(select(Operator).where(Operator.name == name))
        if found is None:
            raise click.ClickException(f"no operator named {name!r}")
        try:
            set_password(db, found, password)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"password of {name} changed")


@operators.command("list")
def operators_list() -> None:
    """Every operator account, and whether it may sign in."""
    _need_tables()
    with session_scope() as db:
        for found in db.scalars(select(Operator).order_by(Operator.name)):
            click.echo(f"{found.name}\t{'active' if found.active else 'disabled'}")


@operators.command("disable")
@click.argument("name")
def operators_disable(name: str) -> None:
    """Stop an operator from signing in (their open sessions end too)."""
    _need_tables()
    with session_scope() as db:
        found = db.scalar(select(Operator).where(Operator.name == name))
        if found is None:
            raise click.ClickException(f"no operator named {name!r}")
        found.active = False
    click.echo(f"operator {name} disabled")


@click.command("apply-reviews")
@click.option("--lang", "languages", multiple=True,
              help="Only this language (repeatable); default: every profile language.")
@click.option("--locales", "locales_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The catalogs' directory (default: the repository's locales/).")
@with_appcontext
def apply_reviews_command(languages: tuple[str, ...], locales_dir: Path | None) -> None:
    """Carry the console's reviews into locales/*.po, clearing their fuzzy flags."""
    _need_tables()
    profile = HOTLINE.get().profile
    unknown = [code for code in languages if code not in profile.languages]
    if unknown:
        raise click.BadParameter(f"not a profile language: {', '.join(unknown)}",
                                 param_hint="--lang")
    with session_scope() as db:
        counts = apply_reviews(db, list(languages or profile.languages), locales_dir)
    for lang, cleared in counts.items():
        click.echo(f"{lang}: {cleared} reviewed translation(s) no longer fuzzy")
    if not counts:
        click.echo("no catalogs found")
