"""A Babel extractor for hotline profiles: every [prompts] text, its prompt id as msgctxt.

Registered as the `hotline_profile` extraction method (pyproject.toml, entry point group
"babel.extractors"); babel.cfg applies it to ivr/profiles/*.toml.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from ivr.content.texts import placeholders

# Babel reads the message context from the first argument of a pgettext-style call.
FUNCTION_NAME = "pgettext"

# What each placeholder becomes, so a translator knows what the sentence will say.
PLACEHOLDER_MEANINGS = {
    "key": "the key to press (a digit)",
    "hotline": "the helpline's name",
    "emergency": "the emergency number",
    "destination": "whom the call is put through to",
    "language": "a language's name",
    "more": "the key for more languages",
}

_PROMPTS_TABLE = re.compile(r"^\s*\[\s*prompts\s*\]\s*(#.*)?$")
_TABLE = re.compile(r"^\s*\[")
_KEY = re.compile(r"""^\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_.-]+))\s*=""")


def prompt_lines(source: str) -> dict[str, int]:
    """Line number (1-based) of each key under [prompts], for the .pot's locations."""
    found: dict[str, int] = {}
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        if _PROMPTS_TABLE.match(line):
            inside = True
        elif _TABLE.match(line):
            inside = False
        elif inside and (match := _KEY.match(line)):
            found.setdefault(next(group for group in match.groups() if group), number)
    return found


def prompt_usage(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Where the profile uses each prompt id: menu node, its option keys, the SMS reply."""
    used: dict[str, list[str]] = {}
    nodes = data.get("nodes", {})
    for node_name, node in nodes.items() if isinstance(nodes, dict) else ():
        if not isinstance(node, dict):
            continue
        for field in ("prompt", "outro"):
            if isinstance(node.get(field), str):
                used.setdefault(node[field], []).append(f"menu {node_name!r} ({field})")
        for option in node.get("options", []):
            if isinstance(option, dict) and isinstance(option.get("prompt"), str):
                used.setdefault(option["prompt"], []).append(
                    f"menu {node_name!r}, key {option.get('key', '?')}")
    destinations = data.get("destinations", {})
    for name in destinations if isinstance(destinations, dict) else ():
        used.setdefault(f"destination.{name}", []).append(
            "%(destination)s in connect.hold: fit your 'Connecting you to' wording")
    prompts = data.get("prompts", {})
    if isinstance(prompts, dict) and "hotline.name" in prompts:
        used.setdefault("hotline.name", []).append(
            "%(hotline)s in the greeting, menus and SMS")
    sms = data.get("sms", {})
    if isinstance(sms, dict) and isinstance(sms.get("numbers_prompt"), str):
        used.setdefault(sms["numbers_prompt"], []).append("the text message with the numbers")
    return used


def translator_comments(file_name: str, prompt_id: str, text: str,
                        usage: Mapping[str, list[str]]) -> list[str]:
    """The comments a translator sees above one profile prompt, one short line each.

    Short lines, because Babel wraps long comments and merges equal ones across profiles.
    """
    uses = usage.get(prompt_id, ["no menu (engine or SMS)"])
    comments = [f"{file_name}: {where}" for where in uses]
    for name in dict.fromkeys(placeholders(text)):
        comments.append(f"%({name})s = {_meaning(name)}; keep it as is.")
    if prompt_id.startswith("sms."):
        comments.append("A text message: at most 2 SMS once filled. Keep it short.")
    return comments


def _meaning(name: str) -> str:
    if name in PLACEHOLDER_MEANINGS:
        return PLACEHOLDER_MEANINGS[name]
    if name.startswith("number_"):
        return "a phone number"
    if name.startswith("hours_"):
        return "office hours (filled in already translated)"
    return "a value filled in by the hotline"


def extract_profile(fileobj: IO[bytes], keywords: Mapping[str, Any],
                    comment_tags: Collection[str], options: Mapping[str, Any],
                    ) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Yield (line, "pgettext", (prompt id, English text), comments) for each profile prompt."""
    source = fileobj.read().decode("utf-8")
    data = tomllib.loads(source)
    prompts = data.get("prompts", {})
    if not isinstance(prompts, dict):
        return
    file_name = Path(str(getattr(fileobj, "name", "profile.toml"))).name
    lines = prompt_lines(source)
    usage = prompt_usage(data)
    for prompt_id, text in prompts.items():
        if isinstance(text, str) and text.strip():
            yield (lines.get(prompt_id, 0), FUNCTION_NAME, (prompt_id, text),
                   translator_comments(file_name, prompt_id, text, usage))
