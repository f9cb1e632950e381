"""An accessible voice and SMS hotline for people affected by human trafficking."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from ivr.content.profile import DEFAULT_PROFILE
from ivr.voice.hotline import build_hotline


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment; in local mode one kept in instance/."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key)
    path.chmod(0o600)
    return key


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The hotline app; a profile that cannot run stops it here, with the reason."""
    app = Flask(__name__, instance_relative_config=True)
    env = os.environ
    app.config.from_mapping(
        TWILIO_AUTH_TOKEN=env.get("TWILIO_AUTH_TOKEN", ""),
        TWILIO_ACCOUNT_SID=env.get("TWILIO_ACCOUNT_SID", ""),
        HOTLINE_PROFILE=env.get("HOTLINE_PROFILE") or str(DEFAULT_PROFILE),
        DATABASE_URL=env.get("DATABASE_URL", ""),
        PUBLIC_BASE_URL=env.get("PUBLIC_BASE_URL", ""),
        TRUST_PROXY_HOPS=env.get("TRUST_PROXY_HOPS", "0"),
        SECRET_KEY=env.get("SECRET_KEY", ""),
        CLOCK=None,
        SMS_SENDER=None,
    )
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from ivr import cli, security
    from ivr.sms import channel as sms
    from ivr.sms import outbound as sms_out
    from ivr.storage import db
    from ivr.voice import media
    from ivr.voice import views as voice

    security.init_app(app)
    sms_out.init_app(app)
    kwargs: dict[str, Any] = {"send_sms": app.extensions["sms_sender"]}
    if app.config["CLOCK"]:
        kwargs["clock"] = app.config["CLOCK"]
    if app.config.get("CATALOGS") is not None:  # catalogs read once, shared (the tests)
        kwargs["catalogs"] = app.config["CATALOGS"]
    app.extensions["hotline"] = build_hotline(app.config["HOTLINE_PROFILE"], **kwargs)
    db.init_app(app)
    sms.init_app(app)
    voice.init_app(app)
    media.init_app(app)
    if app.config.get("CONSOLE_ENABLED", True):  # off in the console's own try-it sandbox
        from ivr import console

        console.init_app(app)
        app.extensions["console_app_factory"] = create_app
    cli.register(app)
    return app
