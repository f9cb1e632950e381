"""Builds the SMS channel for the app: settings, the number vault, the store, the webhook."""

from __future__ import annotations

import logging

from flask import Flask

from ivr.settings import SETTINGS
from ivr.sms.channel import SMS_CHANNEL, SMS_STORE, SmsChannel
from ivr.sms.staff import StaffGate
from ivr.sms.text import warm_beside_the_start
from ivr.sms.views import bp
from ivr.storage.crypto import NumberVault, local_key
from ivr.storage.engines import make_engine
from ivr.storage.sms_store import SmsStore

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    hotline = app.extensions["hotline"]  # voice.hotline.HOTLINE (sms may not import voice)
    settings = SETTINGS.get(app)
    app.config["SMS_USE_REST_API"] = bool(app.config.get("SMS_USE_REST_API")
                                          or hotline.profile.sms.use_rest_api)
    # A key kept in instance/ in local mode only: production refuses to start without one.
    key = str(app.config.get("NUMBER_ENCRYPTION_KEY") or local_key(app.instance_path))
    vault = NumberVault.from_settings(key, app.config["SECRET_KEY"])
    # Its own pool: SMS requests never take a connection the voice webhooks need.
    store = SmsStore(make_engine(app.config["DATABASE_URL"]))
    SMS_STORE.set(app, store)
    staff = StaffGate(settings.staff_pin, settings.ratelimit_storage_uri or "memory://",
                      key_prefix=settings.redis_key_prefix)
    SMS_CHANNEL.set(app, SmsChannel(hotline.profile, hotline.prompter, store, vault,
                                    clock=app.config.get("CLOCK"), staff=staff))
    app.register_blueprint(bp)
    # Load the language model now (about a second; more on a busy machine), beside the
    # start rather than in it, so that the first messages need not spend their deadline on
    # it. gunicorn.conf.py's when_ready waits for it in the master, before any fork.
    warm_beside_the_start(hotline.profile.languages)
