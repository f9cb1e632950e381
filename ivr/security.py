"""Only Twilio may drive a call: every webhook checks X-Twilio-Signature."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from twilio.request_validator import RequestValidator, get_signature_algorithm
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr.settings import DEFAULT_REDIS_KEY_PREFIX, SETTINGS, ServiceKey

log = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., Any])

WEBHOOK_PREFIXES = ("/voice", "/sms")
# Headers a proxy adds: a request that carries one came through a proxy, so it is not from
# this machine even when the proxy (on this machine) connected from loopback.
PROXY_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded",
                 "X-Real-IP", "Via")
VALIDATOR: ServiceKey[RequestValidator | None] = ServiceKey("twilio_validator")


class WebhookSessionInterface(SecureCookieSessionInterface):
    """No cookie session on Twilio's webhooks: they send none and need none (it costs time)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(WEBHOOK_PREFIXES):
            return None  # Flask then uses a null session
        return super().open_session(app, request)


WEBHOOK_BODY_LIMIT = 64 * 1024  # a Twilio webhook's form is a few kilobytes
CONSOLE_BODY_LIMIT = 25 * 1024 * 1024  # a recording uploaded from the console
CONSOLE_PREFIX = "/console"


def body_limit(path: str) -> int:
    """The largest body a request to this path may send."""
    return CONSOLE_BODY_LIMIT if path.startswith(CONSOLE_PREFIX) else WEBHOOK_BODY_LIMIT


class BodyLimit:
    """WSGI middleware: a body larger than its path allows is answered 413 before a byte of
    it is read (nothing is spooled to disk), and the connection is closed so that the server
    does not read the rest either. A chunked body with no length is capped while it is read
    (Flask's max_content_length, set per request in init_app)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = environ.get("CONTENT_LENGTH") or ""
        limit = body_limit(environ.get("PATH_INFO") or "")
        if length.isdigit() and int(length) > limit:
            body = f"Request body too large (at most {limit // 1024} KB here).\n".encode()
            start_response("413 Request Entity Too Large",
                           [("Content-Type", "text/plain"), ("Content-Length", str(len(body))),
                            ("Connection", "close")])
            return [body]
        return self.app(environ, start_response)


def init_app(app: Flask) -> None:
    """Wire the validator and, behind TRUST_PROXY_HOPS proxies, trust what they forward.

    The client address (for sign-in limits) and scheme come from exactly that many proxies,
    and from no other (gunicorn's own forwarded_allow_ips is off: see gunicorn.conf.py).
    """
    settings = SETTINGS.get(app)
    token = settings.twilio_auth_token
    app.session_interface = WebhookSessionInterface()
    VALIDATOR.set(app, RequestValidator(token) if token else None)
    app.config["MAX_CONTENT_LENGTH"] = CONSOLE_BODY_LIMIT  # the largest any path takes
    app.before_request(_limit_this_body)
    app.wsgi_app = BodyLimit(app.wsgi_app)  # type: ignore[method-assign]
    hops = settings.trust_proxy_hops
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    if not token:
        log.warning("local mode: no TWILIO_AUTH_TOKEN, so unsigned webhooks are accepted, "
                    "from this machine (loopback) only")


def _limit_this_body() -> None:
    """A body without a Content-Length (chunked) is cut at its path's limit as it is read."""
    request.max_content_length = body_limit(request.path)


def public_url(path: str) -> str:
    """`path` on this app as Twilio reaches it: the configured public base URL, else the
    scheme and host the request shows."""
    base = current_app.config.get("PUBLIC_BASE_URL") or f"{request.scheme}://{request.host}"
    return base.rstrip("/") + path


def url_twilio_used() -> str:
    """The URL Twilio signed for this request."""
    query = request.query_string.decode("ascii", "replace")
    return public_url(request.script_root + request.path + (f"?{query}" if query else ""))


def is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def is_local_request() -> bool:
    """From this machine, and not through a proxy: nothing forwarded, no proxy hops set."""
    if SETTINGS.get().trust_proxy_hops or any(h in request.headers for h in PROXY_HEADERS):
        return False
    return is_loopback(request.remote_addr)


def forbidden() -> Response:
    return Response("Forbidden: this request is not signed by Twilio.\n", status=403,
                    mimetype="text/plain")


def twilio_signed(view: View) -> View:
    """Refuse (403) a webhook whose Twilio signature is missing or wrong.

    Only in local mode without a token are unsigned requests accepted, and only from this
    machine directly (see is_local_request).
    """

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        validator = VALIDATOR.get()
        if validator is None:
            local = SETTINGS.get().local_mode and is_local_request()
            return view(*args, **kwargs) if local else forbidden()
        signature = request.headers.get("X-Twilio-Signature", "")
        algorithm = get_signature_algorithm(
            request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
        if not signature or not validator.validate(url_twilio_used(), request.form, signature,
                                                   algorithm):
            return forbidden()
        return view(*args, **kwargs)

    return checked  # type: ignore[return-value]


@dataclass
class FailureLimit:
    """Failures counted per key in a store all workers share (Redis in production): a key
    may fail `limit` times a window. When the store is down the check lets the attempt
    through (the secret itself still holds) and says so in the log, unless `fail_closed`:
    then no attempt is let through while failures cannot be counted (a PIN: guessing must
    never be free)."""

    namespace: str
    limit: str
    storage_uri: str = "memory://"
    fail_closed: bool = False
    key_prefix: str = DEFAULT_REDIS_KEY_PREFIX
    _limiter: FixedWindowRateLimiter = field(init=False, repr=False)
    _item: RateLimitItem = field(init=False, repr=False)

    def __post_init__(self) -> None:
        storage = (storage_from_string(self.storage_uri, key_prefix=self.key_prefix)
                   if self.storage_uri.startswith(("redis", "rediss", "valkey"))
                   else storage_from_string(self.storage_uri))
        assert isinstance(storage, Storage), "a synchronous storage URI (not async+...)"
        self._limiter = FixedWindowRateLimiter(storage)
        self._item = parse(self.limit)

    def may_try(self, key: str) -> bool:
        try:
            return bool(self._limiter.test(self._item, self.namespace, key))
        except Exception as exc:  # noqa: BLE001 — the store is down
            log.warning("%s limit not checked (%s): %s", self.namespace, type(exc).__name__,
                        "refused meanwhile" if self.fail_closed else "the secret still holds")
            return not self.fail_closed

    def failed(self, key: str) -> None:
        try:
            self._limiter.hit(self._item, self.namespace, key)
        except Exception as exc:  # noqa: BLE001
            log.warning("%s failure not counted: %s", self.namespace, type(exc).__name__)

    def window(self, key: str) -> tuple[int, datetime] | None:
        """(failures counted, when the count starts again) for a key; None while the store
        is down."""
        try:
            stats = self._limiter.get_window_stats(self._item, self.namespace, key)
        except Exception as exc:  # noqa: BLE001
            log.warning("%s window not read: %s", self.namespace, type(exc).__name__)
            return None
        return (self._item.amount - stats.remaining,
                datetime.fromtimestamp(stats.reset_time, UTC))
