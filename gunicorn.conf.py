"""gunicorn settings for the Procfile's web process (README: "Deploying safely").

Worker model: a few processes of gthread workers, each with many threads. A connection
waits for its first bytes on gunicorn's poller, not on a thread; once it sends, every read of
its headers or body waits at most READ_TIMEOUT_SECONDS, so a slow client (slowloris, a
trickled body) holds one thread of many for seconds, never a whole worker. Password hashing
runs on one low-priority thread per process (ivr/console/accounts.py), never on these.
A TLS proxy that buffers whole requests in front (nginx, a platform router) is still the
first defence; this keeps the calls answered when that proxy lets slow clients through.

The app is built once, in the master (preload_app), and forked workers share its read-only
pages (code, profile, catalogs, rendered fallbacks) until they write them; the SMS language
model and the holiday dates are files that every process maps or reads. Forking a built app
is safe because create_app() opens no database connection (the pools connect on first use,
in a worker) and starts the event writer only with the first event (tests/test_bench.py
checks both). With a preloaded app, `kill -HUP` reloads settings
but not code: deploy by restarting the server.
"""

from __future__ import annotations

import gc
import ipaddress
import os
import socket
import sys
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# Each read of a request's headers or body; Twilio sends a whole webhook in milliseconds.
READ_TIMEOUT_SECONDS = 5.0


def _number(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else default


class _ReadBoundedSocket(socket.socket):
    """A client socket whose blocking reads give up after READ_TIMEOUT_SECONDS."""

    __slots__ = ()

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(READ_TIMEOUT_SECONDS)
        else:
            super().setblocking(False)

    # A read that times out looks like a client that hung up: gunicorn then drops the
    # connection quietly (a logged traceback per slow client would flood the log).
    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        try:
            return super().recv(bufsize, flags)
        except TimeoutError:
            return b""

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        try:
            return super().recv_into(buffer, nbytes, flags)
        except TimeoutError:
            return 0


class ReadBoundedThreadWorker(ThreadWorker):
    """gthread, where a client that stops sending frees its thread within seconds."""

    def enqueue_req(self, conn: Any) -> None:
        if type(conn.sock) is socket.socket:
            conn.sock.__class__ = _ReadBoundedSocket
        super().enqueue_req(conn)


worker_class = ReadBoundedThreadWorker
# Two processes for two cores, each with 32 threads: 64 requests in flight per instance.
# The webhooks spend most of their time waiting (database, Twilio), so threads are cheap;
# more processes would only multiply memory (each loads the profile, catalogs and models).
workers = _number("WEB_CONCURRENCY", 2)
threads = _number("WEB_THREADS", 32)
timeout = 30  # a worker silent for this long is restarted
# On SIGTERM (a deploy, a platform's daily restart) requests in flight get this long, then
# the process exits. No call's state lives in a worker (ringing together keeps its own in
# Redis and Twilio), so nothing needs longer; a webhook takes well under a second, and a
# phone's call asked of a slow REST API gives up within the REST timeout (3 s).
graceful_timeout = 4
keepalive = 5
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190
# gunicorn itself trusts no forwarded header (X-Forwarded-Proto and the like) from anyone,
# loopback included: the app trusts exactly TRUST_PROXY_HOPS proxies (ProxyFix in
# ivr/security.py), so a request that did not come through them cannot claim https.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
# No control socket: nothing on this machine should be able to steer the workers.
control_socket_disable = True
accesslog = "-"
# Address, method, path (never the query: it can hold call state), status, seconds.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(L)ss'


def _bound_hosts(binds: list[str]) -> list[str]:
    hosts = []
    for bind in binds:
        if bind.startswith(("unix:", "fd://")):
            continue
        host = bind.rsplit(":", 1)[0] if ":" in bind else bind
        hosts.append(host.strip("[]"))
    return hosts


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def on_starting(server: Any) -> None:
    """Refuse to start, naming the variable, where the app would refuse in every worker."""
    from ivr import sends_sms
    from ivr.content.profile_loader import load_profile
    from ivr.settings import ConfigError, Settings

    try:
        settings = Settings.load()
        profile = load_profile(settings.hotline_profile or None)
        settings.check(sends_sms=sends_sms(profile, settings),
                       helpline_numbers=profile.sms.helpline_numbers)
    except ConfigError as exc:
        sys.exit(f"gunicorn: {exc}")
    exposed = [h for h in _bound_hosts(list(server.cfg.bind)) if not _is_loopback(h)]
    if settings.local_mode and exposed:
        sys.exit(f"gunicorn: LOCAL_MODE is set, so the hotline binds loopback only, not "
                 f"{', '.join(exposed)} (unset LOCAL_MODE and configure it for production)")


preload_app = True


def when_ready(server: Any) -> None:
    """In the master, before the first fork: have the SMS language model's file written
    (a worker maps it with its first text), then keep the garbage collector off the app's
    objects (its bookkeeping writes to them, which would copy every shared page into each
    worker)."""
    from ivr.sms.text import warm_language_model

    extensions = getattr(server.app.wsgi(), "extensions", {})
    hotline = extensions.get("hotline")
    if hotline is not None:  # the hotline, not the benchmark's bare app
        warm_language_model(hotline.profile.languages)
    together = extensions.get("ring_together")
    if together is not None:
        # Whether Twilio's REST API works, in the start log (and then /healthz); every worker
        # asks again each minute.
        together.health.check()
        together.api.forget_connections()  # no open socket for the workers to share
        server.log.info("ringing together: %s", "the REST API works" if together.health.ok
                        else together.health.reason + ": phones ring one after another")
    gc.freeze()
