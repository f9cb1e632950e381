"""The operators' console under /console: see, hear, try and sign off the menu.

Sign-in with Flask-Login (sessions that die at sign-out), CSRF on every console form
with Flask-WTF, a rate limit on sign-in attempts with Flask-Limiter, and strict security
headers. The Twilio webhooks are other blueprints and get none of this.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

from ivr.console.accounts import SignedIn, load_signed_in
from ivr.console.i18n import N_, gettext
from ivr.console.ids import DatabaseId
from ivr.console.store import session_scope
from ivr.settings import SETTINGS

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Per client address: the peer, or what exactly TRUST_PROXY_HOPS proxies forwarded (ProxyFix
# in ivr.security), never a header a client wrote itself.
SIGN_IN_LIMIT = "10 per minute;30 per hour"
SIGN_IN_LIMIT_PER_NAME = "30 per hour"  # per operator name, from any number of addresses

csrf = CSRFProtect()
limiter = Limiter(get_remote_address, default_limits=[], headers_enabled=False)
login_manager = LoginManager()
login_manager.login_view = "console.login"
login_manager.login_message = N_("Please sign in to use the console.")
login_manager.localize_callback = gettext  # in the operator's (or staff) language
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_operator(cookie_id: str) -> SignedIn | None:
    try:
        with session_scope() as session:
            return load_signed_in(session, cookie_id)
    except SQLAlchemyError:
        return None  # the database is down: signed out, and sign-in says why


def sign_in_name() -> str:
    """The rate-limit key of one account: guessing one password from many addresses."""
    return "operator:" + (request.form.get("name") or "").strip().lower()[:64]


def security_headers(response: Response) -> Response:
    """Headers on every console page: no framing, no sniffing, no referrer, strict CSP."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # same-origin, not no-referrer: over HTTPS Flask-WTF checks the Referer of every form
    # post against this host; other sites still get no referrer.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the console; CSRF is checked by the console's own views only."""
    from ivr.console import (  # noqa: F401  (pages)
        activity_views,
        i18n,
        language_views,
        live_views,
        phone_line,
        prompt_views,
        views,
    )
    from ivr.console.published import REFRESH_SECONDS, PublishedContent, Refresher, hotline_key
    from ivr.voice.staff_door import STAFF_LINE

    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # the webhooks carry no token
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    # Counted in one store for every worker and instance (Redis in production, where the
    # setting is required); local mode alone may count in memory, in its one process.
    app.config["RATELIMIT_STORAGE_URI"] = SETTINGS.get(app).ratelimit_storage_uri or "memory://"
    app.config["RATELIMIT_KEY_PREFIX"] = SETTINGS.get(app).redis_key_prefix
    # Flask has its own (weaker) defaults for these, so they are set, not defaulted.
    # Secure cookies still work on http://localhost, which browsers treat as secure.
    app.config.update(
        SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=True, REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax", PERMANENT_SESSION_LIFETIME=timedelta(hours=8))
    hooks: list[dict[Any, list[Any]]] = [app.before_request_funcs, app.after_request_funcs,
                                          app.teardown_request_funcs]
    app_wide = [list(found.get(None, [])) for found in hooks]
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    # These extensions hook into every request of the app, though only the console's
    # need them (Twilio's carry no session, form token or sign-in): even exempt, each
    # webhook paid about 0.1 ms for Flask-Limiter alone. Their hooks go to the console's
    # requests only (before the console's own, which the blueprint adds when registered).
    for found, kept in zip(hooks, app_wide, strict=True):
        found[views.bp.name] = [hook for hook in found.get(None, []) if hook not in kept]
        found[None] = kept
    i18n.init_app(app)
    app.url_map.converters["id"] = DatabaseId  # before the rules that use it
    app.register_blueprint(views.bp)
    # The staff recording line (a webhook, Twilio-signed, no sign-in): off without a PIN.
    # Also the hotline number's staff door: a helpline phone calling /voice may enter it.
    app.register_blueprint(phone_line.bp)
    phone_line.WRONG_PINS.set(app, phone_line.wrong_pins_of(app))
    STAFF_LINE.set(app, phone_line.HotlineDoor())
    # Approved texts and recordings: an in-memory snapshot the Prompter reads first,
    # refreshed by a thread per worker (PUBLISH_REFRESH_SECONDS = 0: only on demand, as
    # the tests do); the first load happens in that thread, so no request waits for it.
    # The thread starts with a process's first request, never in create_app: gunicorn
    # builds the app in its master and forks workers from it at any time (a killed
    # worker's replacement too), and a fork taken while a master thread is inside SQLite
    # leaves the child's SQLite lock held forever (every later connect hangs).
    hotline = app.extensions["hotline"]
    published = PublishedContent(hotline_key(hotline.profile), app.extensions["events"].engine)
    hotline.prompter.published = published
    published.on_change.append(hotline.engine.forget_rendered)
    app.extensions["published"] = published
    seconds = float(app.config.get("PUBLISH_REFRESH_SECONDS", REFRESH_SECONDS))
    if seconds > 0 and not app.testing:
        refresher = Refresher(published, app.extensions["events"].engine, seconds)
        app.before_request(refresher.start)
        app.extensions["published_refresher"] = refresher
