"""An accessible voice and SMS hotline for people affected by human trafficking."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from ivr.content.profile import DEFAULT_PROFILE, Profile
from ivr.settings import ANY_PHONE, SETTINGS, ConfigError, Settings
from ivr.voice.hotline import HOTLINE, build_hotline

__all__ = ["ConfigError", "create_app", "sends_sms"]
log = logging.getLogger(__name__)


# Local mode only: what production takes from its environment, made once and kept in
# instance/ (readable by us only).
LOCAL_SECRET_KEY_FILE = "secret_key"
LOCAL_STAFF_PIN_FILE = "staff-reply-pin"


def _kept_in_instance(instance_path: str, name: str, make: Callable[[], str]) -> str:
    path = Path(instance_path) / name
    if path.exists():
        return path.read_text().strip()
    value = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _new_staff_pin() -> str:
    return f"{secrets.randbelow(10 ** 8):08d}"


def sends_sms(profile: Profile, settings: Settings) -> bool:
    """Whether this hotline sends SMS of its own (which needs the account SID)."""
    menu_sends = any(option.action == "send_sms" for node in profile.nodes.values()
                     for option in node.options)
    return menu_sends or profile.sms.use_rest_api or settings.sms_use_rest_api


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The hotline app; a profile or settings that cannot run stop it here, with the reason."""
    app = Flask(__name__, instance_relative_config=True)
    settings = Settings.load(overrides=test_config)
    app.config.from_mapping(settings.as_config())
    app.config["HOTLINE_PROFILE"] = settings.hotline_profile or str(DEFAULT_PROFILE)
    app.config.update(CLOCK=None, SMS_SENDER=None)
    if test_config:
        app.config.from_mapping(test_config)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from ivr import security
    from ivr.sms import outbound as sms_out
    from ivr.sms import wiring as sms
    from ivr.storage import db
    from ivr.voice import media, together
    from ivr.voice import views as voice

    hotline_kwargs: dict[str, Any] = {"clock": app.config["CLOCK"]} if app.config["CLOCK"] else {}
    if app.config.get("CATALOGS") is not None:  # catalogs read once, shared (the tests)
        hotline_kwargs["catalogs"] = app.config["CATALOGS"]
    # Every URL in the TwiML is absolute where the public address is known (production
    # requires it): Twilio documents absolute URLs, and the REST API takes nothing else.
    public = settings.public_base_url.rstrip("/")
    hotline = build_hotline(app.config["HOTLINE_PROFILE"],
                            base=public + (voice.bp.url_prefix or ""), media_base=public,
                            **hotline_kwargs)
    verification = hotline.profile.verification
    settings.check(sends_sms=sends_sms(hotline.profile, settings),
                   helpline_numbers=hotline.profile.sms.helpline_numbers,
                   unverified_profile=verification.unverified if verification else None)
    for warning in hotline.profile.warnings:  # production has refused an unverified one
        log.warning("profile: %s", warning)
    if not app.config["SECRET_KEY"]:  # local mode (production has refused above)
        app.config["SECRET_KEY"] = _kept_in_instance(app.instance_path, LOCAL_SECRET_KEY_FILE,
                                                     lambda: secrets.token_hex(32))
    if settings.local_mode and not settings.staff_reply_pins and not app.config["TESTING"]:
        # Staff type a PIN here too, so the person gets exactly what production sends (the
        # PIN taken off, never passed on). Tests set their PINs themselves.
        pin = _kept_in_instance(app.instance_path, LOCAL_STAFF_PIN_FILE, _new_staff_pin)
        settings = replace(settings, staff_reply_pins={ANY_PHONE: pin})
        log.info("local mode: staff replies carry the PIN kept in %s",
                 Path(app.instance_path) / LOCAL_STAFF_PIN_FILE)
    SETTINGS.set(app, settings)
    security.init_app(app)
    sms_out.init_app(app)
    hotline.engine.send_sms = sms_out.SMS_SENDER.get(app)
    HOTLINE.set(app, hotline)
    db.init_app(app)
    sms.init_app(app)
    voice.init_app(app)
    together.init_app(app, settings, hotline.engine)
    media.init_app(app)
    if app.config.get("CONSOLE_ENABLED", True):  # off in the console's own try-it sandbox
        from ivr import console

        console.init_app(app)
        from ivr.console.tryit import APP_FACTORY

        APP_FACTORY.set(app, create_app)
    app.cli = CommandsOnDemand(name=app.name)
    return app


class CommandsOnDemand(AppGroup):
    """`flask --app ivr`'s commands, imported when a command line first asks for them: a
    web server never runs them, and importing them all costs a third of a second."""

    def _register(self) -> None:
        if not self.commands:
            from ivr import cli

            cli.register_on(self)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._register()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._register()
        return super().list_commands(ctx)
