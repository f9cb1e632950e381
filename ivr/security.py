"""Only Twilio may drive a call: every webhook checks X-Twilio-Signature."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from twilio.request_validator import RequestValidator, get_signature_algorithm
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., Any])

WEBHOOK_PREFIXES = ("/voice", "/sms")


class WebhookSessionInterface(SecureCookieSessionInterface):
    """No cookie session on Twilio's webhooks: they send none and need none (it costs time)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(WEBHOOK_PREFIXES):
            return None  # Flask then uses a null session
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Wire the validator and, behind a TLS proxy, trust its forwarded scheme and host."""
    token = app.config.get("TWILIO_AUTH_TOKEN") or ""
    app.session_interface = WebhookSessionInterface()
    app.extensions["twilio_validator"] = RequestValidator(token) if token else None
    hops = int(app.config.get("TRUST_PROXY_HOPS") or 0)
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    if not token:
        log.warning("local mode: no TWILIO_AUTH_TOKEN, so unsigned webhooks are accepted, "
                    "from this machine (loopback) only")


def url_twilio_used() -> str:
    """The URL Twilio signed: the configured public base URL, else what the request shows."""
    query = request.query_string.decode("ascii", "replace")
    path = request.script_root + request.path + (f"?{query}" if query else "")
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + path
    return f"{request.scheme}://{request.host}{path}"


def is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def forbidden() -> Response:
    return Response("Forbidden: this request is not signed by Twilio.\n", status=403,
                    mimetype="text/plain")


def twilio_signed(view: View) -> View:
    """Refuse (403) a webhook whose Twilio signature is missing or wrong.

    In local mode (no auth token) unsigned requests are accepted from loopback only.
    """

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        validator: RequestValidator | None = current_app.extensions["twilio_validator"]
        if validator is None:
            return view(*args, **kwargs) if is_loopback(request.remote_addr) else forbidden()
        signature = request.headers.get("X-Twilio-Signature", "")
        algorithm = get_signature_algorithm(
            request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
        if not signature or not validator.validate(url_twilio_used(), request.form, signature,
                                                   algorithm):
            return forbidden()
        return view(*args, **kwargs)

    return checked  # type: ignore[return-value]
