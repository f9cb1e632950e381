"""Carrying the console's texts and recordings into the repository's files, and back.

Export writes approved texts into locales/<lang>/LC_MESSAGES/messages.po (clearing `fuzzy`:
a person approved them) and live recordings into prompts/<lang>/<prompt>.wav with their
manifest entries, so they can be committed. Import does the reverse for what the files
have and the database does not: reviewed catalog texts that differ from the approved ones,
and recorded files the database lacks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.console.editing import placeholder_problems, render_problem
from ivr.console.models import PromptRecording, PromptText
from ivr.console.published import APPROVED, hotline_key, sha256_of
from ivr.content.audio import AudioFile, read_manifest, write_manifest
from ivr.content.i18n import CLDR_LOCALES, SOURCE_LANGUAGE
from ivr.voice.hotline import Hotline

IMPORTER = "ivr content import"


@dataclass
class Moved:
    texts: dict[str, int] = field(default_factory=dict)  # lang -> texts written or read
    recordings: int = 0
    skipped: list[str] = field(default_factory=list)  # why an entry was left alone


def _po(locales: Path, lang: str) -> Path:
    return locales / lang / "LC_MESSAGES" / "messages.po"


def _read(path: Path, lang: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=CLDR_LOCALES.get(lang, lang))


def _approved(session: Session, hotline: Hotline) -> dict[tuple[str, str], PromptText]:
    """(lang, prompt) -> the approved text whose English source is still the current one."""
    profile = hotline.profile
    found = {}
    for row in session.scalars(select(PromptText).where(
            PromptText.hotline == hotline_key(profile), PromptText.state == APPROVED)):
        if row.prompt_id in profile.all_prompt_ids() and \
                row.source_hash == sha256_of(profile.prompt_text(row.prompt_id)):
            found[(row.lang, row.prompt_id)] = row
    return found


def export_content(session: Session, hotline: Hotline, locales: Path, prompts: Path) -> Moved:
    """Write approved texts into the catalogs and live recordings into prompts/."""
    moved = Moved()
    approved = _approved(session, hotline)
    for lang in sorted({lang for lang, _ in approved}):
        path = _po(locales, lang)
        if not path.exists():
            moved.skipped.append(f"{lang}: no catalog at {path}")
            continue
        catalog = _read(path, lang)
        written = 0
        for (code, prompt_id), row in sorted(approved.items()):
            if code != lang:
                continue
            source = hotline.profile.prompt_text(prompt_id)
            message = catalog.get(source, context=prompt_id)
            if message is None:
                catalog.add(source, row.text, context=prompt_id, flags=["python-format"])
            elif message.string == row.text and not message.fuzzy:
                continue
            else:
                message.string = row.text
                message.flags.discard("fuzzy")
            written += 1
        if written:
            out = BytesIO()
            write_po(out, catalog, width=76)
            path.write_bytes(out.getvalue())
        moved.texts[lang] = written
    entries = {(a.lang, a.prompt_id): a for a in read_manifest(prompts)}
    for rec in session.scalars(select(PromptRecording).where(
            PromptRecording.hotline == hotline_key(hotline.profile),
            PromptRecording.active.is_(True)).order_by(PromptRecording.id)):
        target = prompts / rec.lang / f"{rec.prompt_id}.wav"
        known = entries.get((rec.lang, rec.prompt_id))
        if known and known.sha256 == rec.text_sha256 and known.source == "recorded" \
                and target.is_file() and sha256_of_bytes(target.read_bytes()) == rec.audio_sha256:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(rec.wav)
        entries[(rec.lang, rec.prompt_id)] = AudioFile(
            rec.lang, rec.prompt_id, rec.text_sha256, "recorded", rec.duration, target, rec.text)
        moved.recordings += 1
    if moved.recordings:
        write_manifest(prompts, entries.values())
    return moved


def sha256_of_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_content(session: Session, hotline: Hotline, locales: Path, prompts: Path) -> Moved:
    """Bring reviewed catalog texts that differ from the approved ones, and recorded files
    the database lacks, into the database (approved and live)."""
    moved = Moved()
    profile = hotline.profile
    key = hotline_key(profile)
    approved = _approved(session, hotline)
    for lang in profile.languages:
        path = _po(locales, lang)
        if lang == SOURCE_LANGUAGE or not path.exists():
            continue
        count = 0
        for message in _read(path, lang):
            prompt_id = message.context
            if not prompt_id or message.fuzzy or not isinstance(message.string, str) \
                    or not message.string or prompt_id not in profile.all_prompt_ids():
                continue
            source = profile.prompt_text(prompt_id)
            current = approved.get((lang, prompt_id))
            # Only where the database serves something else: otherwise the catalog speaks.
            if message.id != source or current is None or current.text == message.string:
                continue
            if placeholder_problems(source, message.string):
                moved.skipped.append(f"{lang} {prompt_id}: placeholders differ from the English")
                continue
            why = render_problem(hotline, lang, prompt_id, message.string)
            if why:
                moved.skipped.append(f"{lang} {prompt_id}: {why}")
                continue
            current.state = "replaced"
            session.add(PromptText(hotline=key, lang=lang, prompt_id=prompt_id,
                                   source_hash=sha256_of(source), text=message.string,
                                   previous=current.text, state=APPROVED, author=IMPORTER,
                                   approved_by=IMPORTER, approved_at=datetime.now(UTC),
                                   note=f"imported from {path.name}"))
            count += 1
        moved.texts[lang] = count
    held = set(session.scalars(select(PromptRecording.audio_sha256).where(
        PromptRecording.hotline == key, PromptRecording.active.is_(True))))
    for audio in read_manifest(prompts):
        if audio.source != "recorded" or audio.lang not in profile.languages \
                or audio.lang == SOURCE_LANGUAGE or not audio.path.is_file():
            continue
        data = audio.path.read_bytes()
        if sha256_of_bytes(data) in held:
            continue
        for older in session.scalars(select(PromptRecording).where(
                PromptRecording.hotline == key, PromptRecording.lang == audio.lang,
                PromptRecording.prompt_id == audio.prompt_id,
                PromptRecording.active.is_(True))):
            older.active, older.state = False, "replaced"
        session.add(PromptRecording(
            hotline=key, lang=audio.lang, prompt_id=audio.prompt_id, text=audio.text,
            text_sha256=audio.sha256, audio_sha256=sha256_of_bytes(data), wav=data,
            duration=audio.duration, how="import", author=IMPORTER, active=True,
            state=APPROVED, approved_by=IMPORTER, approved_at=datetime.now(UTC),
            note=f"imported from {audio.path.name}"))
        moved.recordings += 1
    session.flush()
    return moved
