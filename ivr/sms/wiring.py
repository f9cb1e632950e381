"""Builds the SMS channel for the app: settings, the number vault, the store, the webhook."""

from __future__ import annotations

import logging
import os

from flask import Flask

from ivr.sms.channel import SmsChannel
from ivr.sms.text import warm_language_model
from ivr.sms.views import bp
from ivr.storage.crypto import NumberVault, local_key
from ivr.storage.engines import make_engine
from ivr.storage.sms_store import SmsStore

log = logging.getLogger(__name__)


def number_key(app: Flask) -> str:
    """NUMBER_ENCRYPTION_KEY from the configuration; in local mode one kept in instance/."""
    key = app.config.get("NUMBER_ENCRYPTION_KEY") or ""
    if not key:
        if app.config.get("TWILIO_AUTH_TOKEN"):
            log.warning("NUMBER_ENCRYPTION_KEY is not set: using a key kept in instance/; "
                        "every process of this hotline must share one key (see README)")
        key = local_key(app.instance_path)
    return str(key)


def init_app(app: Flask) -> None:
    hotline = app.extensions["hotline"]
    app.config.setdefault("NUMBER_ENCRYPTION_KEY", os.environ.get("NUMBER_ENCRYPTION_KEY", ""))
    env_rest = os.environ.get("SMS_USE_REST_API", "").strip().lower()
    default_rest = hotline.profile.sms.use_rest_api or env_rest in ("1", "true", "yes")
    app.config.setdefault("SMS_USE_REST_API", default_rest)
    vault = NumberVault.from_settings(number_key(app), app.config["SECRET_KEY"])
    # Its own pool: SMS requests never take a connection the voice webhooks need.
    store = SmsStore(make_engine(app.config["DATABASE_URL"]))
    app.extensions["sms_store"] = store
    app.extensions["sms"] = SmsChannel(hotline.profile, hotline.prompter, store, vault,
                                       clock=app.config.get("CLOCK"))
    app.register_blueprint(bp)
    # Load the language model now, before the worker takes requests (about half a second;
    # seconds on a busy machine): the first messages must not spend their deadline on it.
    warm_language_model(tuple(hotline.profile.languages))
