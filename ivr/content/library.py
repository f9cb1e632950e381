"""Making and checking the audio library: importing recordings, synthesizing placeholders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.content.audio import (
    AudioError,
    AudioFile,
    read_manifest,
    write_manifest,
)
from ivr.content.needs import Need
from ivr.content.prompt_set import AUDIO_SUFFIXES, PromptSet
from ivr.content.sound import (
    SILENCE_LEVEL,
    Problem,
    check_file,
    convert,
    file_digest,
    synthesize,
    with_duration,
)
from ivr.content.voices import VoiceList, voice_problems

# --- import and synthesis -------------------------------------------------------------


def _replace_entries(files: dict[Path, AudioFile], new: AudioFile, root: Path) -> None:
    """Put `new` in the manifest; drop what it supersedes (same path, or same exact text)."""
    for path, old in list(files.items()):
        same_text = (old.lang, old.prompt_id, old.sha256) == (new.lang, new.prompt_id, new.sha256)
        if path == new.path or same_text:
            del files[path]
            if path != new.path and path.exists() and old.source == "synthesized":
                path.unlink()  # a placeholder a recording replaces: keep the repository lean
    files[new.path] = new


@dataclass
class ImportResult:
    imported: list[AudioFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def import_recordings(prompts: PromptSet, directory: Path, lang: str,
                      source: str = "recorded", silence_level: float | None = None,
                      progress: Iterable[Path] | None = None) -> ImportResult:
    """Convert a session's recordings (file name = script id) into the library."""
    by_stem = {prompts.stems[n]: n for n in prompts.needs_of(lang) if n.translated}
    variants: dict[str, list[str]] = {}
    for need, stem in prompts.stems.items():
        if need.lang == lang and stem != need.prompt_id:
            variants.setdefault(need.prompt_id, []).append(stem)
    result = ImportResult()
    files = {audio.path: audio for audio in read_manifest(prompts.root)}
    recordings = sorted(p for p in directory.iterdir()
                        if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if not recordings:
        result.problems.append(Problem(str(directory), "no audio files in this directory"))
    for recording in (progress if progress is not None else recordings):
        found = by_stem.get(recording.stem)
        if found is None:
            if recording.stem in variants:
                why = ("this prompt has several versions: name the file "
                       + " or ".join(f"{s}{recording.suffix}" for s in variants[recording.stem]))
            else:
                why = f"no prompt with this id in language {lang!r} (see `ivr prompts script`)"
            result.problems.append(Problem(recording.name, why))
            continue
        need = found
        target = prompts.root / lang / f"{recording.stem}.wav"
        try:
            info = convert(recording, target, SILENCE_LEVEL if silence_level is None
                           else silence_level)
        except AudioError as exc:
            result.problems.append(Problem(recording.name, str(exc)))
            continue
        audio = with_duration(AudioFile(lang, need.prompt_id, need.sha256, source, 0.0, target,
                                        need.text), info)
        _replace_entries(files, audio, prompts.root)
        result.imported.append(audio)
    write_manifest(prompts.root, files.values())
    return result


def synthesis_plan(prompts: PromptSet, lang: str, force: bool = False) -> list[Need]:
    """The needs of a language espeak-ng should (re)make: translated, with no current file."""
    plan = []
    for need in prompts.needs_of(lang):
        current = prompts.current(need)
        if not need.translated or (current and (current.source == "recorded" or not force)):
            continue
        plan.append(need)
    return plan


def synthesize_language(prompts: PromptSet, lang: str, plan: list[Need],
                        progress: Iterable[Need] | None = None) -> list[AudioFile]:
    """Make placeholders for `plan`; drop this language's stale placeholders."""
    files = {audio.path: audio for audio in read_manifest(prompts.root)}
    wanted = {(n.lang, n.prompt_id, n.sha256) for n in prompts.needs}
    for path, old in list(files.items()):
        if (old.lang == lang and old.source == "synthesized"
                and (old.lang, old.prompt_id, old.sha256) not in wanted):
            del files[path]
            path.unlink(missing_ok=True)
    made = []
    for need in progress if progress is not None else plan:
        target = prompts.root / lang / f"{prompts.stems[need]}.wav"
        occupant = files.get(target)
        if occupant and occupant.source == "recorded" and occupant.sha256 != need.sha256:
            # Never overwrite a person's recording, even a stale one: it is listed for review.
            target = prompts.root / lang / f"{need.prompt_id}.{need.sha256[:8]}.wav"
        info = synthesize(need.text, lang, target)
        audio = with_duration(AudioFile(lang, need.prompt_id, need.sha256, "synthesized", 0.0,
                                        target, need.text), info)
        _replace_entries(files, audio, prompts.root)
        made.append(audio)
        write_manifest(prompts.root, files.values())  # each file counts, even if stopped
    write_manifest(prompts.root, files.values())
    return made


# --- the check ------------------------------------------------------------------------


@dataclass
class LanguageStatus:
    lang: str
    needed: int = 0
    recorded: int = 0
    synthesized: int = 0
    spoken_by_twilio: int = 0
    missing: int = 0
    untranslated: int = 0


@dataclass
class CheckReport:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    languages: list[LanguageStatus] = field(default_factory=list)
    stale: list[AudioFile] = field(default_factory=list)


def check_library(prompts: PromptSet, voices: VoiceList | None = None) -> CheckReport:
    """Format, duration, silence, staleness, duplicates, coverage and voices; all problems."""
    report = CheckReport()
    voices = voices or VoiceList.load()
    for profile_set in prompts.profiles:
        report.problems += voice_problems(profile_set.profile, voices)
    entries = read_manifest(prompts.root)
    seen_paths: dict[Path, AudioFile] = {}
    digests: dict[str, Path] = {}
    for audio in entries:
        if audio.path in seen_paths:
            report.problems.append(Problem(audio.path.name, "listed twice in the manifest"))
        seen_paths[audio.path] = audio
        report.problems += list(check_file(audio))
        if audio.path.is_file():
            digest = file_digest(audio.path)
            if digest in digests:
                report.problems.append(Problem(
                    audio.path.name, f"the same audio as {digests[digest].name}: a duplicate"))
            digests.setdefault(digest, audio.path)
    for wav in sorted(prompts.root.rglob("*.wav")):
        if wav not in seen_paths:
            report.problems.append(Problem(str(wav.relative_to(prompts.root)),
                                           "not in the manifest: nobody knows what it says"))
    for audio in entries:
        if audio.source == "synthesized" and not prompts.needs_audio(audio.lang):
            report.problems.append(Problem(
                f"{audio.lang}/{audio.path.name}",
                "a placeholder for a language Twilio speaks: <Say> comes first, so it is "
                "never played"))
    report.stale = prompts.stale()
    for audio in report.stale:
        report.problems.append(Problem(
            f"{audio.lang}/{audio.path.name}",
            f"stale {audio.source} audio: its text has changed (it says {audio.text!r})"))
    for lang in prompts.languages():
        status = LanguageStatus(lang)
        for need in prompts.needs_of(lang):
            status.needed += 1
            current = prompts.current(need)
            if current:
                if current.source == "recorded":
                    status.recorded += 1
                else:
                    status.synthesized += 1
            elif not need.translated:
                status.untranslated += 1
                if prompts.needs_audio(lang):
                    report.warnings.append(Problem(
                        f"{lang} {need.prompt_id}",
                        "no translation yet: callers hear English after a notice"))
            elif prompts.needs_audio(lang):
                status.missing += 1
                report.problems.append(Problem(
                    f"{lang} {prompts.stems[need]}",
                    "no audio, and Twilio has no voice for this language "
                    "(`ivr prompts synth`, or record it)"))
            else:
                status.spoken_by_twilio += 1
        report.languages.append(status)
    return report
