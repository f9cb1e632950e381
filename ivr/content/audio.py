"""Prompt audio: which file speaks which text, whether it is stale, and how files are made.

A file is played only while the exact text it speaks (prompt filled with its parameters)
still hashes to what `prompts/manifest.toml` recorded when it was made; otherwise it is
stale. Files are 8 kHz mono 16-bit PCM WAV: Twilio plays WAV inside <Gather> without the
transcoding delay MP3 adds, and 8 kHz is all a phone line carries.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
MANIFEST_NAME = "manifest.toml"
PROMPTS_DIR_ENV = "HOTLINE_PROMPTS_DIR"
SOURCES = ("recorded", "synthesized")


class AudioError(RuntimeError):
    """A recording that cannot be converted, or a tool that failed; the message says why."""


def text_hash(text: str) -> str:
    """The hash a manifest keeps of the exact text a file speaks."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prompts_root() -> Path:
    """Where the prompt audio lives: HOTLINE_PROMPTS_DIR, else the repository's prompts/."""
    configured = os.environ.get(PROMPTS_DIR_ENV)
    return Path(configured) if configured else PROMPTS_DIR


@dataclass(frozen=True, slots=True)
class AudioFile:
    lang: str
    prompt_id: str
    sha256: str
    source: str  # "recorded" by a person, or "synthesized"
    duration: float
    path: Path
    text: str = ""

    @property
    def stem(self) -> str:
        """The name the media route serves the file under: /prompts/<lang>/<stem>.wav."""
        return self.path.stem


# --- the manifest ----------------------------------------------------------------------


def read_manifest(root: Path) -> list[AudioFile]:
    """Every [[files]] entry of root/manifest.toml (none if there is no manifest)."""
    manifest = root / MANIFEST_NAME
    if not manifest.exists():
        return []
    return list(_manifest_files(root, manifest.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=8)
def _manifest_files(root: Path, text: str) -> tuple[AudioFile, ...]:
    """The entries this manifest text lists (parsed once per process for the same text)."""
    data = tomllib.loads(text)
    return tuple(AudioFile(entry["lang"], entry["prompt"], entry["sha256"], entry["source"],
                           float(entry.get("duration", 0.0)),
                           root / (entry.get("file") or f"{entry['lang']}/{entry['prompt']}.wav"),
                           entry.get("text", ""))
                 for entry in data.get("files", []))


def _toml_string(value: str) -> str:
    # JSON's escapes are valid TOML basic-string escapes; non-ASCII stays as it is.
    return json.dumps(value, ensure_ascii=False)


def write_manifest(root: Path, files: Iterable[AudioFile]) -> None:
    """Write the manifest, sorted by language and file, atomically."""
    lines = ["# Prompt audio: what each file says. Written by `ivr prompts import|synth`.",
             "# sha256 is the hash of `text`, the exact filled prompt the file speaks; a file",
             "# whose prompt text has changed since is stale and never played.", ""]
    for audio in sorted(files, key=lambda a: (a.lang, a.path.name)):
        relative = audio.path.relative_to(root).as_posix()
        lines += ["[[files]]",
                  f"lang = {_toml_string(audio.lang)}",
                  f"prompt = {_toml_string(audio.prompt_id)}",
                  f"file = {_toml_string(relative)}",
                  f"sha256 = {_toml_string(audio.sha256)}",
                  f"source = {_toml_string(audio.source)}",
                  f"duration = {audio.duration:.2f}",
                  f"text = {_toml_string(audio.text)}", ""]
    root.mkdir(parents=True, exist_ok=True)
    partial = root / (MANIFEST_NAME + ".partial")
    partial.write_text("\n".join(lines), encoding="utf-8")
    partial.replace(root / MANIFEST_NAME)


class AudioLibrary:
    """The manifest of prompts/<lang>/*.wav, read once at start."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else prompts_root()
        self.files: dict[tuple[str, str, str], AudioFile] = {}
        for audio in read_manifest(self.root):
            self.files[(audio.lang, audio.prompt_id, audio.sha256)] = audio

    def current(self, lang: str, prompt_id: str, text: str) -> AudioFile | None:
        """The file that speaks exactly this text, or None (missing or stale)."""
        found = self.files.get((lang, prompt_id, text_hash(text)))
        if found and found.path.exists():
            return found
        return None

    def url(self, audio: AudioFile) -> str:
        # The hash in the query makes Twilio's cache fetch a file again once it is re-made.
        return f"/prompts/{audio.lang}/{audio.stem}.wav?v={audio.sha256[:12]}"



