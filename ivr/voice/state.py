"""The call state: everything a call carries from one webhook to the next, in its URLs.

Twilio keeps nothing for us between requests, and any instance may answer any step, so
the state travels in the callback URL's query. Its letters are short on purpose (a TwiML
document holds many URLs); this is the only module that knows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

# Counters from a URL are clamped: a forged or garbled one is never an error.
COUNT_LIMIT = 9
STEP_LIMIT = 20
UNTIL_LIMIT = 2**40  # a Unix time, far beyond any call
LEG_LIMIT = 10  # Twilio rings at most 10 numbers at once; a step holds no more


def as_count(value: str | None, limit: int = COUNT_LIMIT) -> int:
    """A small non-negative number from a URL or a form, clamped; garbage reads as 0."""
    try:
        return min(max(int(value or 0), 0), limit)
    except ValueError:
        return 0


def _word(value: str | None, limit: int) -> str | None:
    """A short identifier (language code, node or destination name), else None."""
    if not value or len(value) > limit or not all(c.isalnum() or c in "_.-" for c in value):
        return None
    return value


HOURS = ("open", "closed")


@dataclass(frozen=True, slots=True)
class CallState:
    """Where a call is: language, menu, counters, what is ringing and what already rang."""

    lang: str | None = field(default=None, metadata={"q": "l"})
    node: str | None = field(default=None, metadata={"q": "n"})
    silent: int = field(default=0, metadata={"q": "r"})  # silent waits in this menu
    wrong: int = field(default=0, metadata={"q": "w"})  # wrong keys in this menu
    page: int = field(default=0, metadata={"q": "p"})  # language menu page (0: not in it)
    suggested: str | None = field(default=None, metadata={"q": "s"})  # from the caller's country
    destination: str | None = field(default=None, metadata={"q": "d"})  # what is ringing
    step: int = field(default=0, metadata={"q": "t"})  # which phone of its ring plan
    # Destinations whose phones all rang without anyone accepting: never rung again by
    # silence or an option, so the "nobody answered" menu cannot lead back to them.
    tried: tuple[str, ...] = field(default=(), metadata={"q": "x"})
    empty: int = field(default=0, metadata={"q": "m"})  # voice messages that came out empty
    # Which list of phones is ringing, "open" or "closed", fixed when ringing starts: office
    # hours that open or close between two rings must not reorder or skip the phones.
    hours: str | None = field(default=None, metadata={"q": "h"})
    # The phones of this step still to ring one after another (their places in the step):
    # a step that cannot ring together, or the phones of a ring together that never rang.
    solo: tuple[int, ...] = field(default=(), metadata={"q": "o"})
    # A ring together (ivr/voice/together.py): its queue (named after the caller's CallSid,
    # never a number), the second (Unix time) the caller leaves it at the latest, and on
    # a phone's call, which phone of the step it is (1 for the first).
    ring: str | None = field(default=None, metadata={"q": "c"})
    until: int = field(default=0, metadata={"q": "u"})
    leg: int = field(default=0, metadata={"q": "g"})

    def to_query(self) -> dict[str, str]:
        """The URL parameters, in a stable order; defaults are left out except counters in menus."""
        query: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            key = f.metadata["q"]
            if f.name in ("tried", "solo"):
                if value:
                    query[key] = ".".join(str(v) for v in value)
            elif isinstance(value, int):
                keep = value or (f.name in ("silent", "wrong") and (self.node or self.page))
                keep = keep or (f.name == "step" and self.destination is not None)
                if keep:
                    query[key] = str(value)
            elif value:
                query[key] = value
        return query

    @classmethod
    def from_query(cls, args: Mapping[str, str]) -> CallState:
        """Read a state back from URL parameters; anything garbled reads as its default."""
        tried = tuple(t for t in (args.get("x") or "").split(".")
                      if _word(t, 64))[:8]
        solo = tuple(int(i) for i in (args.get("o") or "").split(".")
                     if i.isdigit() and len(i) == 1)[:10]
        return cls(lang=_word(args.get("l"), 8), node=_word(args.get("n"), 64),
                   silent=as_count(args.get("r")), wrong=as_count(args.get("w")),
                   page=as_count(args.get("p")), suggested=_word(args.get("s"), 8),
                   destination=_word(args.get("d"), 64),
                   step=as_count(args.get("t"), STEP_LIMIT), tried=tried,
                   empty=as_count(args.get("m")),
                   hours=args.get("h") if args.get("h") in HOURS else None,
                   solo=solo, ring=_word(args.get("c"), 64),
                   until=as_count(args.get("u"), UNTIL_LIMIT),
                   leg=as_count(args.get("g"), LEG_LIMIT))

    @classmethod
    def from_url(cls, url: str | None) -> CallState:
        """The state a callback URL carries (an empty state for no URL)."""
        if not url:
            return cls()
        return cls.from_query({k: v[0] for k, v in parse_qs(urlsplit(url).query).items()})

    def but(self, **changes: Any) -> CallState:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def having_tried(self, destination: str) -> CallState:
        return replace(self, tried=tuple(dict.fromkeys((*self.tried, destination))))


def url(base: str, route: str, state: CallState | None = None) -> str:
    """A callback URL under `base`: ASCII only, so Twilio's signature matches what we see."""
    path = f"{base.rstrip('/')}/{route}" if route else base.rstrip("/") or "/"
    query = urlencode(state.to_query()) if state else ""
    return f"{path}?{query}" if query else path
