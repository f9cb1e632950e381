"""Recorded and synthesized prompt audio: which file speaks which text, and whether it is stale."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
MANIFEST_NAME = "manifest.toml"


def text_hash(text: str) -> str:
    """The hash a manifest keeps of the exact text a file speaks."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class AudioFile:
    lang: str
    prompt_id: str
    sha256: str
    source: str  # "recorded" by a person, or "synthesized"
    duration: float
    path: Path


class AudioLibrary:
    """The manifest of prompts/<lang>/<prompt_id>.wav, read once at start."""

    def __init__(self, root: Path = PROMPTS_DIR) -> None:
        self.root = root
        self.files: dict[tuple[str, str], AudioFile] = {}
        manifest = root / MANIFEST_NAME
        if manifest.exists():
            data = tomllib.loads(manifest.read_text(encoding="utf-8"))
            for entry in data.get("files", []):
                path = root / entry["lang"] / f"{entry['prompt']}.wav"
                self.files[(entry["lang"], entry["prompt"])] = AudioFile(
                    entry["lang"], entry["prompt"], entry["sha256"], entry["source"],
                    float(entry.get("duration", 0.0)), path)

    def current(self, lang: str, prompt_id: str, text: str) -> AudioFile | None:
        """The file that speaks exactly this text, or None (missing or stale)."""
        found = self.files.get((lang, prompt_id))
        if found and found.sha256 == text_hash(text) and found.path.exists():
            return found
        return None

    def url(self, audio: AudioFile) -> str:
        # The hash in the query makes Twilio's cache fetch a file again once it is re-made.
        return f"/prompts/{audio.lang}/{audio.prompt_id}.wav?v={audio.sha256[:12]}"
