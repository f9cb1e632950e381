"""The menu tree as a picture: DOT text drawn to SVG by Graphviz's `dot` (Debian package)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence

from ivr.console.menu import ELSEWHERE, MenuNode

DOT_TIMEOUT_SECONDS = 10


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def menu_dot(tree: Sequence[MenuNode]) -> str:
    """DOT source of the menu: one box per node, one arrow per key."""
    lines = ["digraph menu {",
             '  graph [rankdir=LR, bgcolor="transparent", fontname="sans-serif"];',
             '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#1f3b5a",'
             ' fontname="sans-serif", fontsize=11];',
             '  edge [color="#1f3b5a", fontname="sans-serif", fontsize=10];']
    names = {item.name for item in tree}
    for item in tree:
        if item.name == ELSEWHERE:
            continue
        fill = "#ffffff" if item.reachable else "#f3e6c4"
        lines.append(f"  {_quote(item.name)} [label={_quote(item.title)}, "
                     f'fillcolor="{fill}", URL={_quote("#node-" + item.name)}];')
        ends: dict[str, list[str]] = {}
        for branch in item.branches:
            if branch.action == "goto" and branch.target in names:
                target = branch.target or ""
                ends.setdefault(target, []).append(branch.key)
            else:
                end = f"{item.name}:{branch.key}"
                lines.append(f"  {_quote(end)} [label={_quote(branch.label)}, shape=ellipse,"
                             ' fillcolor="#e3f0e8"];')
                lines.append(f"  {_quote(item.name)} -> {_quote(end)} "
                             f"[label={_quote(branch.key)}];")
        for target, keys in ends.items():
            # The language menu has one arrow per language to the same menu: one arrow,
            # labelled with all the keys, keeps the picture readable.
            label = ", ".join(keys) if len(keys) <= 5 else f"{len(keys)} languages"
            lines.append(f"  {_quote(item.name)} -> {_quote(target)} [label={_quote(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(dot_source: str, title: str) -> str | None:
    """An inline <svg> element for the page, or None where Graphviz is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    result = subprocess.run([dot, "-Tsvg"], input=dot_source.encode(), capture_output=True,
                            timeout=DOT_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        return None
    svg = result.stdout.decode("utf-8")
    start = svg.find("<svg")
    if start < 0:
        return None
    svg = svg[start:]
    # Graphviz writes a fixed size in points; the page scales the picture to its width.
    svg = re.sub(r'<svg width="[^"]*" height="[^"]*"', '<svg', svg, count=1)
    svg = svg.replace("<svg", '<svg role="img" aria-labelledby="menu-graph-title" '
                      'class="menu-graph"', 1)
    svg = re.sub(r"<title>[^<]*</title>",
                 f'<title id="menu-graph-title">{_escape(title)}</title>', svg, count=1)
    return svg


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
