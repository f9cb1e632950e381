"""CPU time per webhook request, in-process: the app's own cost, with no server or socket.

    python3 bench/cpu_per_request.py            # 1000 requests per endpoint, 5 rounds
    python3 bench/cpu_per_request.py --rate 0   # as fast as possible instead of paced

bench/webhooks.py measures what a caller gets (throughput and latency under gunicorn), but
on a shared machine other processes move those figures. CPU time spent per request moves
much less, so this script is the one to compare two versions of the code with: it sends
the same signed requests as bench/webhooks.py straight to the WSGI apps (the hotline, and
bench/bare_app.py), and counts the process's CPU time per request, every thread included
(the event writer's work counts too). Requests are paced (default 400/s, about one gunicorn
worker's share under load) because the event writer's cost depends on how requests arrive.
Rounds alternate between the endpoints; the median round is printed.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=1000, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate", type=float, default=400.0,
                        help="requests per second (0: as fast as possible; default 400)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.rounds < 1 or args.rate < 0:
        parser.error("--requests and --rounds must be positive, --rate not negative")
    return args


def requester(app: WSGIApp, path: str, form: dict[str, str],
              headers: dict[str, str]) -> Callable[[], None]:
    """A function that sends one POST to a WSGI app and insists on 200."""
    from werkzeug.test import EnvironBuilder

    route, _, query = path.partition("?")
    body = urlencode(form).encode()
    environ = EnvironBuilder(path=route, query_string=query, method="POST", data=body,
                             content_type="application/x-www-form-urlencoded",
                             headers=list(headers.items())).get_environ()

    def start_response(status: str, response_headers: Any, exc_info: Any = None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"POST {path}: {status} (expected 200)")

    def send() -> None:
        request = dict(environ, **{"wsgi.input": io.BytesIO(body)})
        b"".join(app(request, start_response))

    return send


def cpu_per_request(send: Callable[[], None], count: int, rate: float,
                    settle: Callable[[], None]) -> float:
    """Process CPU microseconds per request (all threads), `settle` included at the end."""
    began_cpu, began = time.process_time(), time.monotonic()
    for number in range(count):
        send()
        if rate:
            pause = began + (number + 1) / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    settle()  # the event writer finishes what these requests queued
    return (time.process_time() - began_cpu) / count * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path[:0] = [str(REPO / "bench"), str(REPO)]  # this checkout's ivr, and the bench's
    from bare_app import create_app as create_bare_app
    from webhooks import ENDPOINTS, PUBLIC_BASE_URL, prepare_database, secret_settings, signature

    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as scratch:
        settings = {"TWILIO_AUTH_TOKEN": token, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                    "TRUST_PROXY_HOPS": "0", **secret_settings(),
                    "DATABASE_URL": f"sqlite:///{Path(scratch) / 'events.sqlite3'}"}
        note = prepare_database((REPO / "Procfile").read_text(),
                                {**os.environ, **settings, "PYTHONPATH": str(REPO)})
        if note:
            print(f"note: {note}")
        os.environ.update(settings)
        from ivr import create_app

        hotline = create_app()
        logging.disable(logging.WARNING)  # an unwritten event must not flood the figures
        events = hotline.extensions["events"]
        apps: dict[str, WSGIApp] = {"bare": create_bare_app(), "hotline": hotline}
        senders = {e.label: requester(apps[e.app], e.path, dict(e.form),
                                      {"X-Twilio-Signature": signature(token, e.path, e.form)})
                   for e in ENDPOINTS}
        for send in senders.values():  # warm up: imports, caches, the writer thread
            for _ in range(200):
                send()
        events.flush(30)
        figures: dict[str, list[float]] = {label: [] for label in senders}
        for _ in range(args.rounds):
            for label, send in senders.items():
                figures[label].append(cpu_per_request(send, args.requests, args.rate,
                                                      lambda: events.flush(60)))
    pace = f"{args.rate:g}/s" if args.rate else "unpaced"
    print(f"CPU time per request, in-process ({args.requests} requests x {args.rounds} "
          f"rounds, {pace}, median round):")
    bare = statistics.median(figures[ENDPOINTS[0].label])
    for label, values in figures.items():
        median = statistics.median(values)
        print(f"  {label:<42} {median:7.0f} us   (+{median - bare:.0f} us over bare; "
              f"rounds {min(values):.0f}..{max(values):.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
