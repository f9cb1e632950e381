"""The baseline for bench/webhooks.py: a bare Flask app answering one fixed, small TwiML body.

It runs under the same gunicorn settings as the hotline, so the ratio of the two throughputs
measures what the hotline's own code costs, not what Flask or gunicorn cost.
"""

from __future__ import annotations

from flask import Flask, Response

BARE_PATH = "/bare"
BARE_BODY = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<Response><Say language="en-GB">Hello.</Say></Response>')


def create_app() -> Flask:
    """A Flask app with one POST endpoint; nothing else (no signature, no form parsing)."""
    app = Flask(__name__)

    @app.post(BARE_PATH)
    def bare() -> Response:
        return Response(BARE_BODY, mimetype="text/xml")

    return app
