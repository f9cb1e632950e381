"""A Babel extractor for the console catalog: the names people use for prompts and menus.

Registered as the `console_names` extraction method (pyproject.toml, entry point group
"babel.extractors"); babel-console.cfg applies it to ivr/profiles/*.toml. Each prompt id
(the profile's and the built-in ones) becomes msgid "signs.control" in the context
"prompt name", each menu node msgid "main" in the context "menu name"; a catalog's msgstr
is what staff call it ("Signs: control"). An empty msgstr shows the id itself.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from ivr.console.i18n import MENU_NAME_CONTEXT, PROMPT_NAME_CONTEXT
from ivr.content.babel_extract import prompt_lines
from ivr.content.texts import BUILTIN_PROMPTS

Extracted = tuple[int, str, tuple[str, str], list[str]]
# Babel shows a translator comment on one line; the text itself is the best hint of a name.
COMMENT_LENGTH = 70


def _said(text: str) -> list[str]:
    shown = " ".join(text.split())
    return [f"Says: {shown[:COMMENT_LENGTH]}{'…' if len(shown) > COMMENT_LENGTH else ''}"]


def extract_names(fileobj: IO[bytes], keywords: Mapping[str, Any],
                  comment_tags: Collection[str], options: Mapping[str, Any],
                  ) -> Iterator[Extracted]:
    """Yield (line, "pgettext", (context, id), comments) for each prompt id and menu node."""
    source = fileobj.read().decode("utf-8")
    data = tomllib.loads(source)
    prompts = data.get("prompts", {})
    prompts = prompts if isinstance(prompts, dict) else {}
    lines = prompt_lines(source)
    for prompt_id in sorted(set(BUILTIN_PROMPTS) | set(prompts)):
        text = prompts.get(prompt_id) or BUILTIN_PROMPTS.get(prompt_id) or ""
        yield (lines.get(prompt_id, 0), "pgettext", (PROMPT_NAME_CONTEXT, prompt_id),
               _said(str(text)))
    nodes = data.get("nodes", {})
    for name in nodes if isinstance(nodes, dict) else ():
        yield (0, "pgettext", (MENU_NAME_CONTEXT, name), ["A menu of the call"])
