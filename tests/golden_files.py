"""Golden files: what a caller hears or a sender receives, kept in tests/golden/ for review.

A test compares its answer with the file; a change in wording, translation, number or hours
shows as a diff in review. After a change made on purpose, rewrite the files and read the diff:

    IVR_UPDATE_GOLDEN=1 python3 -m pytest -q -p no:cacheprovider \
        tests/test_golden.py tests/test_sms.py
    git diff tests/golden/      # read every changed line before committing
"""

from __future__ import annotations

import os
from pathlib import Path
from xml.dom import minidom

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE = os.environ.get("IVR_UPDATE_GOLDEN") == "1"


def readable_twiml(twiml: str) -> str:
    """One element per line, indented, so a diff points at the sentence that changed."""
    pretty = minidom.parseString(twiml).toprettyxml(indent="  ")
    return "\n".join(line for line in pretty.splitlines() if line.strip()) + "\n"


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/<name>; with IVR_UPDATE_GOLDEN=1, write it instead."""
    path = GOLDEN_DIR / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: see tests/golden_files.py to write it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"
