"""Row ids from outside (a URL, a form): whole numbers the database can hold, or none."""

from __future__ import annotations

from flask import request
from werkzeug.routing import IntegerConverter, Map

# Database ids are 32-bit: a longer number in a URL is a 404, not an overflow (a 500).
MAX_ID = 2**31 - 1


class DatabaseId(IntegerConverter):
    """`<id:name>` in a console URL: a whole number from 1 to MAX_ID, else 404."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def form_id(name: str) -> int:
    """A row id a form sends: a whole number from 1 to MAX_ID, else 0 (found nowhere): a
    very large one must never reach the database (PostgreSQL refuses it as out of range)."""
    text = (request.form.get(name) or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return 0
    number = int(text)
    return number if 1 <= number <= MAX_ID else 0
