"""Approved texts and recordings, held in memory in every worker and refreshed in the background.

The Prompter asks this snapshot before the catalogs and the prompt files (see
ivr.content.speech.Published). Answering a call only ever reads the snapshot in memory; a
background thread reloads it from the database every REFRESH_SECONDS, and keeps serving the
last one it loaded while the database is down.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.console.models import PromptRecording, PromptText
from ivr.content.profile import Profile
from ivr.storage.engines import within

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0  # every worker has a change within a minute, whatever its phase
APPROVED = "approved"


@lru_cache(maxsize=4096)
def sha256_of(text: str) -> str:
    """sha256 of a text (prompt sources and filled texts repeat: cached)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hotline_key(profile: Profile) -> str:
    """The key of a hotline's rows in the shared tables: its profile's file name."""
    return profile.path.stem


@dataclass(frozen=True, slots=True)
class LiveRecording:
    id: int
    text_sha256: str
    audio_sha256: str
    duration: float
    wav: bytes = field(repr=False)


@dataclass(frozen=True)
class Snapshot:
    """What callers hear on top of the catalogs; replaced whole, never changed in place."""

    texts: Mapping[tuple[str, str], tuple[str, str]]  # (lang, prompt) -> (source hash, text)
    recordings: Mapping[tuple[str, str], LiveRecording]  # (lang, prompt) -> the live one
    loaded_at: datetime | None = None


EMPTY = Snapshot({}, {})


def load_snapshot(session: Session, hotline: str, previous: Snapshot = EMPTY) -> Snapshot:
    """Read the approved texts and live recordings; audio already held is not read again."""
    texts = {(lang, prompt): (source, text) for lang, prompt, source, text in session.execute(
        select(PromptText.lang, PromptText.prompt_id, PromptText.source_hash, PromptText.text)
        .where(PromptText.hotline == hotline, PromptText.state == APPROVED)
        .order_by(PromptText.id))}
    held = {live.id: live for live in previous.recordings.values()}
    rows = session.execute(
        select(PromptRecording.id, PromptRecording.lang, PromptRecording.prompt_id,
               PromptRecording.text_sha256, PromptRecording.audio_sha256,
               PromptRecording.duration)
        .where(PromptRecording.hotline == hotline, PromptRecording.active.is_(True))
        .order_by(PromptRecording.id)).all()
    wanted = [row.id for row in rows if row.id not in held]
    audio: dict[int, bytes] = {}
    if wanted:
        for recording_id, wav in session.execute(
                select(PromptRecording.id, PromptRecording.wav)
                .where(PromptRecording.id.in_(wanted))):
            audio[recording_id] = wav
    recordings = {}
    for row in rows:
        live = held.get(row.id)
        if live is None:
            live = LiveRecording(row.id, row.text_sha256, row.audio_sha256, row.duration,
                                 audio[row.id])
        recordings[(row.lang, row.prompt_id)] = live
    return Snapshot(texts, recordings, datetime.now(UTC))


_HEX = re.compile(r"[0-9a-f]{12,64}")
STORED_DEADLINE_S = 2.0  # reading a take the snapshot lacks; Twilio waits for the audio


def _approved_take(engine: Engine, hotline: str, lang: str, prompt_id: str,
                   version: str) -> bytes | None:
    """The audio of a take that was approved (live now or before), by its hash's start.
    Drafts are never served: nobody approved them."""
    with Session(engine) as session:
        return session.scalar(
            select(PromptRecording.wav).where(
                PromptRecording.hotline == hotline, PromptRecording.lang == lang,
                PromptRecording.prompt_id == prompt_id,
                PromptRecording.audio_sha256.startswith(version),
                PromptRecording.approved_by.is_not(None))
            .order_by(PromptRecording.id.desc()).limit(1))


def _content(snapshot: Snapshot) -> tuple[object, ...]:
    return (snapshot.texts, {key: live.id for key, live in snapshot.recordings.items()})


class PublishedContent:
    """One hotline's snapshot, as the Prompter and the media route read it."""

    def __init__(self, hotline: str, engine: Engine | None = None) -> None:
        self.hotline = hotline
        self.engine = engine  # where takes not yet in the snapshot are read
        self.snapshot = EMPTY
        self.failures = 0  # refreshes in a row that could not reach the database
        # Called when what callers hear has changed (the engine forgets its rendered menus).
        self.on_change: list[Callable[[], None]] = []

    def text(self, lang: str, prompt_id: str, source: str) -> str | None:
        found = self.snapshot.texts.get((lang, prompt_id))
        if found and found[0] == sha256_of(source):
            return found[1]
        return None

    def audio_url(self, lang: str, prompt_id: str, text: str) -> str | None:
        live = self.snapshot.recordings.get((lang, prompt_id))
        if live and live.text_sha256 == sha256_of(text):
            # The audio hash in the URL makes Twilio fetch a re-recorded prompt again.
            return f"/prompts/{lang}/{prompt_id}.wav?v={live.audio_sha256[:12]}"
        return None

    def wav(self, lang: str, name: str, version: str = "") -> bytes | None:
        """The live take; for a `version` (the start of an audio hash, from a URL) another
        worker named, that take, read from the database when this snapshot lacks it."""
        live = self.snapshot.recordings.get((lang, name))
        if live and (not version or live.audio_sha256.startswith(version)):
            return live.wav
        if not version or self.engine is None or not _HEX.fullmatch(version):
            return live.wav if live else None
        try:
            stored = within(STORED_DEADLINE_S, _approved_take, self.engine, self.hotline, lang,
                            name, version, lane="media")
        except (SQLAlchemyError, TimeoutError) as exc:
            log.warning("published prompts: a take named by a URL could not be read (%s)",
                        type(exc).__name__)
            stored = None
        return stored if stored is not None else (live.wav if live else None)

    def refresh(self, engine: Engine) -> bool:
        """Load a new snapshot; on a database error keep the last one and say False."""
        try:
            with Session(engine) as session:
                loaded = load_snapshot(session, self.hotline, self.snapshot)
        except SQLAlchemyError as exc:
            self.failures += 1
            log.warning("published prompts: refresh failed (%s); the snapshot of %s stays",
                        type(exc).__name__, self.snapshot.loaded_at)
            return False
        self.failures = 0
        changed = _content(loaded) != _content(self.snapshot)
        self.snapshot = loaded
        if changed:
            for listener in self.on_change:
                listener()
        return True


# Try it's "hear the drafts": (lang, prompt) -> (source hash, draft text), per request.
_drafts: contextvars.ContextVar[Mapping[tuple[str, str], tuple[str, str]] | None] = \
    contextvars.ContextVar("try_drafts", default=None)


class DraftView:
    """The snapshot, with this request's drafts on top: for Try it's sandbox only."""

    def __init__(self, published: PublishedContent) -> None:
        self.published = published

    def text(self, lang: str, prompt_id: str, source: str) -> str | None:
        found = (_drafts.get() or {}).get((lang, prompt_id))
        if found and found[0] == sha256_of(source):
            return found[1]
        return self.published.text(lang, prompt_id, source)

    def audio_url(self, lang: str, prompt_id: str, text: str) -> str | None:
        return self.published.audio_url(lang, prompt_id, text)

    def wav(self, lang: str, name: str, version: str = "") -> bytes | None:
        return self.published.wav(lang, name, version)


def use_drafts(drafts: Mapping[tuple[str, str], tuple[str, str]] | None) -> contextvars.Token:
    return _drafts.set(drafts)


def stop_drafts(token: contextvars.Token) -> None:
    _drafts.reset(token)


class Refresher:
    """A daemon thread per process that refreshes the snapshot, started by its first request."""

    def __init__(self, published: PublishedContent, engine: Engine,
                 seconds: float = REFRESH_SECONDS) -> None:
        self.published, self.engine, self.seconds = published, engine, seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._starting = threading.Lock()

    def start(self) -> None:
        """Start, unless this process's thread runs (a forked child has none of its own)."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._starting:  # a worker's first requests arrive on many threads at once
            if self._pid == os.getpid() and self._thread is not None \
                    and self._thread.is_alive():
                return
            self._stop = threading.Event()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._loop, name="published-prompts",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.published.refresh(self.engine)
            self._stop.wait(self.seconds)
