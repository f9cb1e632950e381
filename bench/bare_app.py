"""The baselines for bench/webhooks.py: a bare Flask app, and the least a correct webhook does.

It runs under the same gunicorn settings as the hotline. `POST /bare` answers a fixed TwiML
body and does nothing else: the ratio to it measures everything above Flask and gunicorn.
`POST /bare/signed` first does what every correct Twilio webhook must (parse Twilio's form,
check X-Twilio-Signature with twilio's RequestValidator): the ratio to it measures what the
hotline's own code costs beyond that unavoidable work.
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator, get_signature_algorithm

BARE_PATH = "/bare"
SIGNED_PATH = "/bare/signed"
BARE_BODY = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<Response><Say language="en-GB">Hello.</Say></Response>')


def create_app(token: str | None = None, public_base_url: str | None = None) -> Flask:
    """Two POST endpoints; the signed one reads TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL."""
    app = Flask(__name__)
    validator = RequestValidator(token if token is not None
                                 else os.environ.get("TWILIO_AUTH_TOKEN", ""))
    base = (public_base_url if public_base_url is not None
            else os.environ.get("PUBLIC_BASE_URL", "")).rstrip("/")

    @app.post(BARE_PATH)
    def bare() -> Response:
        return Response(BARE_BODY, mimetype="text/xml")

    @app.post(SIGNED_PATH)
    def signed() -> Response:
        # As the hotline checks it: the URL Twilio used, the parsed form, the header.
        query = request.query_string.decode("ascii", "replace")
        url = base + request.path + (f"?{query}" if query else "")
        algorithm = get_signature_algorithm(
            request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(url, request.form, signature, algorithm):
            return Response("Forbidden\n", status=403, mimetype="text/plain")
        return Response(BARE_BODY, mimetype="text/xml")

    return app
