"""gunicorn's settings for the Procfile's web line: build the app once, in the master.

Each worker used to run create_app() itself (about 1 s) and load its own copy of everything
read-only: code, the profile, catalogs, rendered fallbacks and the SMS language model
(65 MB). Built once in the master, forked workers share those pages until they write them.
Forking a built app is safe because create_app() opens no database connection (the pools
connect on first use, in a worker) and starts the event writer only with the first event
(tests/test_bench.py checks both). With a preloaded app, `kill -HUP` reloads settings but
not code: deploy by restarting the server.
"""

from __future__ import annotations

import gc
from typing import Any

preload_app = True


def when_ready(server: Any) -> None:
    """In the master, before the first fork: load what every worker would load on first
    use, then keep the garbage collector off these objects (its bookkeeping writes to them,
    which would copy every shared page into each worker)."""
    from ivr.sms.text import warm_language_model

    hotline = getattr(server.app.wsgi(), "extensions", {}).get("hotline")
    if hotline is not None:  # the hotline, not the benchmark's bare app
        warm_language_model(hotline.profile.languages)
    gc.freeze()
