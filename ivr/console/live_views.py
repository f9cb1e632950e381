"""The console's live page: the calls to the staff recording line now, each with the prompt
being recorded highlighted and its full text in large type; kept in step by polling a small
JSON endpoint. Thin views over ivr.console.live; added to the console's blueprint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify, render_template

from ivr.console.i18n import gettext, language_label
from ivr.console.live import LiveCall, live_calls
from ivr.console.menu import text_direction
from ivr.console.published import hotline_key
from ivr.console.recording import text_to_read
from ivr.console.store import session_scope
from ivr.console.views import bp, hotline

POLL_SECONDS = 2  # how often the page asks where the calls are
REFRESH_WITHOUT_SCRIPT_SECONDS = 5


@dataclass(frozen=True)
class CallView:
    """One call as the page shows it: the prompt now, and the call's whole list."""

    call: LiveCall
    language: str
    direction: str
    text: str  # the full text to read now ("" once finished)
    prompts: list[tuple[str, str]]  # (prompt id, text) of the call's list, in order
    seconds_ago: int

    def as_json(self) -> dict[str, Any]:
        c = self.call
        return {"id": c.key, "lang": c.lang, "language": self.language, "dir": self.direction,
                "number": min(c.index + 1, c.total), "total": c.total,
                "prompt_id": c.prompt_id, "text": self.text, "step": c.step,
                "step_label": gettext(c.step_label), "seconds_ago": self.seconds_ago,
                "position": self.position, "age": self.age, "prompts": list(c.queue)}

    @property
    def position(self) -> str:
        """"prompt 3 of 40", or "40 of 40" once every prompt is done."""
        c = self.call
        if c.prompt_id:
            return gettext("prompt %(number)s of %(total)s", number=c.index + 1, total=c.total)
        return gettext("%(number)s of %(total)s", number=c.total, total=c.total)

    @property
    def age(self) -> str:
        return gettext("Last step %(seconds)s s ago.", seconds=self.seconds_ago)


def _views(now: datetime | None = None) -> list[CallView]:
    h = hotline()
    now = now or datetime.now(UTC)
    with session_scope() as db:
        calls = live_calls(db, hotline_key(h.profile), now)
    views = []
    for call in calls:
        texts = {pid: text_to_read(h, call.lang, pid) or "" for pid in call.queue}
        views.append(CallView(
            call, language_label(call.lang), text_direction(call.lang),
            texts.get(call.prompt_id or "", ""), list(texts.items()),
            max(0, int((now - call.updated_at).total_seconds()))))
    return views


@bp.get("/live")
def live() -> str:
    """The phone recording calls now; the page follows them by itself."""
    return render_template("console/live.html", title=gettext("Recording by phone, live"),
                           calls=_views(), poll_seconds=POLL_SECONDS,
                           refresh_seconds=REFRESH_WITHOUT_SCRIPT_SECONDS)


@bp.get("/live.json")
def live_json() -> Response:
    """Where each call is now, for the page's script."""
    return jsonify({"poll_seconds": POLL_SECONDS,
                    "calls": [view.as_json() for view in _views()]})
