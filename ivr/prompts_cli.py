"""`ivr prompts`: recording scripts, importing and synthesizing audio, checks, the caller's time.

The work is done by plain functions (PromptSet, import_recordings, synthesize_language,
check_library, timing_rows); the click commands only parse options and print.
"""

from __future__ import annotations

import csv
import html
import io
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import click

from ivr.audio import (
    LEAD_PAD,
    SOURCES,
    TAIL_PAD,
    AudioError,
    AudioFile,
    AudioLibrary,
    Need,
    Problem,
    VoiceList,
    check_file,
    convert,
    espeak_seconds,
    file_digest,
    file_stems,
    prompt_needs,
    read_manifest,
    synthesize,
    voice_problems,
    with_duration,
    write_manifest,
)
from ivr.engine import MORE_LANGUAGES_KEY, Caller, Engine
from ivr.i18n import SOURCE_LANGUAGE, Catalogs
from ivr.profile import PROFILES_DIR, Profile, ProfileError, load_profile
from ivr.simulate import Heard, parse_twiml
from ivr.speech import SOURCE_VOICE, Prompter, Utterance

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff",
                            ".aifc", ".au", ".snd", ".w64", ".caf", ".wv"})
# Targets of the issue: every menu's full prompt, and the greeting with page 1 of languages.
MENU_TARGET = 25.0
LANGUAGE_MENU_TARGET = 30.0
# Characters per second when neither files nor espeak-ng can tell (English IVR speech).
FALLBACK_RATE = 14.0
RATE_SAMPLE = 8
# espeak-ng's Mandarin voice spells most Chinese characters as English letters: its timing
# says nothing about a real voice.
ESPEAK_CANNOT_READ = frozenset({"zh"})


# --- the prompts of one or more profiles --------------------------------------------------


@dataclass
class ProfileSet:
    profile: Profile
    prompter: Prompter
    needs: list[Need]

    def needs_audio(self, lang: str) -> bool:
        """True where Twilio cannot speak the language: only files reach the caller."""
        return self.prompter.voice(lang) is None


@dataclass
class PromptSet:
    """Everything the shipped (or given) profiles can say, and the audio library."""

    library: AudioLibrary
    profiles: list[ProfileSet]
    needs: list[Need] = field(default_factory=list)
    stems: dict[Need, str] = field(default_factory=dict)

    @classmethod
    def load(cls, profile_paths: Iterable[Path], root: Path | None = None,
             locales_dir: Path | None = None) -> PromptSet:
        library = AudioLibrary(root)
        sets = []
        for path in profile_paths:
            profile = load_profile(path)
            catalogs = (Catalogs(list(profile.languages), locales_dir) if locales_dir
                        else Catalogs(list(profile.languages)))
            prompter = Prompter(profile, catalogs, library)
            sets.append(ProfileSet(profile, prompter, prompt_needs(profile, prompter)))
        unique: dict[tuple[str, str, str], Need] = {}
        for profile_set in sets:
            for need in profile_set.needs:
                unique.setdefault((need.lang, need.prompt_id, need.text), need)
        needs = list(unique.values())
        return cls(library, sets, needs, file_stems(needs))

    @property
    def root(self) -> Path:
        return self.library.root

    def languages(self) -> list[str]:
        return list(dict.fromkeys(code for s in self.profiles for code in s.profile.languages))

    def needs_audio(self, lang: str) -> bool:
        return any(s.needs_audio(lang) for s in self.profiles if lang in s.profile.languages)

    def needs_of(self, lang: str) -> list[Need]:
        return [need for need in self.needs if need.lang == lang]

    def current(self, need: Need) -> AudioFile | None:
        return self.library.current(need.lang, need.prompt_id, need.text)

    def stale(self) -> list[AudioFile]:
        """Files whose text no profile says any more: never played, always reported."""
        wanted = {(n.lang, n.prompt_id, n.sha256) for n in self.needs}
        return [audio for key, audio in sorted(self.library.files.items()) if key not in wanted]


def default_profiles() -> list[Path]:
    """The shipped profiles, and HOTLINE_PROFILE if it names another."""
    paths = sorted(PROFILES_DIR.glob("*.toml"))
    configured = os.environ.get("HOTLINE_PROFILE")
    if configured and Path(configured).resolve() not in [p.resolve() for p in paths]:
        paths.append(Path(configured))
    return paths


def _load(profile_paths: tuple[str, ...]) -> PromptSet:
    paths = [Path(p) for p in profile_paths] or default_profiles()
    try:
        return PromptSet.load(paths)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc


# --- speaking rates and durations -----------------------------------------------------


class SpeakingRates:
    """Characters per second, per language: measured on its audio files, else on espeak-ng.

    Placeholders are made with espeak-ng at ESPEAK_SPEED; a language with no files of its
    own gets the rate espeak-ng reaches on a sample of its texts. Padding is not counted.
    """

    def __init__(self, prompts: PromptSet) -> None:
        self.prompts = prompts
        self.rates: dict[str, float] = {}
        self.how: dict[str, str] = {}

    def rate(self, lang: str) -> float:
        if lang not in self.rates:
            self.rates[lang], self.how[lang] = self._measure(lang)
        return self.rates[lang]

    def _measure(self, lang: str) -> tuple[float, str]:
        files = [a for a in self.prompts.library.files.values() if a.lang == lang and a.text
                 and a.duration > LEAD_PAD + TAIL_PAD]
        if len(files) >= 3:
            chars = sum(len(a.text) for a in files)
            seconds = sum(a.duration - LEAD_PAD - TAIL_PAD for a in files)
            return chars / seconds, f"{len(files)} audio files"
        translated = [n for n in self.prompts.needs_of(lang) if n.translated]
        if lang in ESPEAK_CANNOT_READ and lang != SOURCE_LANGUAGE and translated:
            # The same message takes about as long in any language; time it in English.
            english = [self._english(n) for n in translated]
            seconds = sum(len(t) for t in english) / self.rate(SOURCE_LANGUAGE)
            return (sum(len(n.text) for n in translated) / seconds,
                    "as long as the English (espeak-ng cannot read this script)")
        every = sorted({n.text for n in translated}, key=lambda t: (len(t), t))
        # Short and long texts alike: pauses weigh more in a short one.
        texts = every[::max(len(every) // RATE_SAMPLE, 1)][:RATE_SAMPLE]
        if texts and shutil.which("espeak-ng"):
            seconds = _espeak_total(lang, tuple(texts))
            if seconds > 0:
                return sum(len(t) for t in texts) / seconds, f"espeak-ng, {len(texts)} texts"
        return FALLBACK_RATE, "assumed"

    def seconds(self, text: str, lang: str) -> float:
        return len(text) / self.rate(lang)

    def _english(self, need: Need) -> str:
        for profile_set in self.prompts.profiles:
            if need.lang in profile_set.profile.languages:
                text, _ = profile_set.prompter.text(SOURCE_LANGUAGE, need.prompt_id,
                                                    dict(need.extra))
                return text
        return need.text


@lru_cache(maxsize=64)
def _espeak_total(lang: str, texts: tuple[str, ...]) -> float:
    """Seconds espeak-ng takes for these texts (0 if it fails); the same texts, once."""
    try:
        return sum(espeak_seconds(list(texts), lang))
    except AudioError:
        return 0.0


# --- the recording script -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScriptLine:
    file_id: str
    prompt_id: str
    text: str
    notes: str
    target_seconds: float
    status: str


def script_lines(prompts: PromptSet, lang: str, rates: SpeakingRates) -> list[ScriptLine]:
    """What the voice talent records for one language, in menu order."""
    lines = []
    for need in prompts.needs_of(lang):
        if not need.translated:
            continue
        audio = prompts.current(need)
        status = audio.source if audio else "to record"
        seconds = audio.duration if audio else rates.seconds(need.text, lang) + LEAD_PAD + TAIL_PAD
        notes = need.where
        if need.prompt_id != prompts.stems[need]:
            notes += "; one of several versions of this prompt: keep the file name exact"
        lines.append(ScriptLine(prompts.stems[need], need.prompt_id, need.text, notes,
                                round(seconds, 1), status))
    return lines


SCRIPT_FIELDS = ["id", "text", "notes", "target_seconds", "status"]


def script_csv(lines: list[ScriptLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SCRIPT_FIELDS)
    for line in lines:
        writer.writerow([line.file_id, line.text, line.notes, f"{line.target_seconds:.1f}",
                         line.status])
    return out.getvalue()


def script_html(lines: list[ScriptLine], lang: str, hotline: str, untranslated: int) -> str:
    e = html.escape
    rows = "\n".join(
        f"<tr><td class=id>{e(line.file_id)}</td><td lang={e(lang)}>{e(line.text)}</td>"
        f"<td>{e(line.notes)}</td><td class=num>{line.target_seconds:.1f}</td>"
        f"<td>{e(line.status)}</td></tr>" for line in lines)
    missing = (f"<p><strong>{untranslated} prompt(s) have no translation yet</strong> and are "
               f"not in this script.</p>") if untranslated else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Recording script: {e(hotline)}, {e(lang)}</title>
<style>
body {{ font: 12pt/1.4 sans-serif; margin: 1.5cm; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #888; padding: .3em .5em; vertical-align: top; text-align: left; }}
td.id {{ font-family: monospace; white-space: nowrap; }}
td.num {{ text-align: right; }}
tr {{ page-break-inside: avoid; }}
</style></head><body>
<h1>Recording script: {e(hotline)}, language {e(lang)}</h1>
<p>Read each text calmly and clearly, as to someone frightened on a bad line. Leave a second
of silence before and after each take. Save each take as its <em>id</em> (for example
<code>{e(lines[0].file_id if lines else "greeting")}.wav</code>); any common format will do.
Numbers are read digit by digit, in the groups shown. Target times are a guide.</p>
{missing}
<table><thead><tr><th>id</th><th>text</th><th>notes</th><th>target (s)</th><th>status</th>
</tr></thead><tbody>
{rows}
</tbody></table></body></html>
"""


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
            kwargs = {"silence_level": silence_level} if silence_level is not None else {}
            info = convert(recording, target, **kwargs)
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


# --- the caller's time ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    lang: str
    greeting_page1: float
    page2: float | None
    menus: dict[str, tuple[float, float]]  # node -> (until its last option, full)
    silent_to_ring: float
    silent_keys: int
    listening_to_ring: float
    listening_keys: str


class Clocker:
    """Seconds of what the engine says, from the files' durations or the speaking rate."""

    def __init__(self, prompts: PromptSet, profile_set: ProfileSet, rates: SpeakingRates) -> None:
        self.library = prompts.library
        self.profile = profile_set.profile
        self.rates = rates
        self.by_url = {self.library.url(a): a for a in self.library.files.values()}
        self.say_codes = {lang.say_language: lang.code for lang in self.profile.languages.values()
                          if lang.say_language}
        self.say_codes.setdefault(SOURCE_VOICE[0], SOURCE_LANGUAGE)

    def heard(self, heard: Heard) -> float:
        if heard.kind == "play":
            audio = self.by_url.get(heard.text)
            if audio:
                return audio.duration
            path = urlsplit(heard.text).path
            raise click.ClickException(f"no manifest entry for {path}")
        code = self.say_codes.get(heard.language or "", SOURCE_LANGUAGE)
        return self.rates.seconds(heard.text, code)

    def all(self, heard: list[Heard]) -> float:
        return sum(self.heard(h) for h in heard)

    def until(self, heard: list[Heard], said: Utterance) -> float:
        """Seconds until `said` has been heard in full (all of `heard` if it never is)."""
        wanted = said.audio_url or said.text
        total = 0.0
        for item in heard:
            total += self.heard(item)
            if item.text == wanted:
                break
        return total


def timing_rows(prompts: PromptSet, profile_set: ProfileSet,
                rates: SpeakingRates) -> list[Timing]:
    """Per language: the language menu, every menu, and the time to a ringing helpline.

    The engine itself renders each step, so the order and choice of prompts (notices
    included) is the one callers get.
    """
    p = profile_set.profile
    prompter = profile_set.prompter
    engine = Engine(p, prompter)
    clock = Clocker(prompts, profile_set, rates)
    nobody = Caller()
    talk = next(o for o in p.nodes[p.start_node].options if o.action == "connect")
    hold = parse_twiml(str(engine.connect(None, p.person, 0, nobody))).heard
    rows = []
    for lang in p.languages.values():
        suggested = lang.code if lang.countries else None
        first = parse_twiml(str(engine.language_menu(1, suggested, greet=True))).heard
        again = parse_twiml(str(engine.language_menu(1, suggested, silent=1))).heard
        page2 = (parse_twiml(str(engine.language_menu(2, suggested))).heard
                 if len(p.language_pages) > 1 else None)
        menus = {}
        for node in p.nodes.values():
            heard = parse_twiml(str(engine.menu(lang.code, node.name))).heard
            full = clock.all(heard)
            menus[node.name] = (full - (clock.heard(heard[-1]) if node.outro else 0.0), full)
        silent = (clock.all(first) + p.menu_timeout + clock.all(again) + p.menu_timeout
                  + clock.all(hold))
        # A caller who listens to the end of their option before pressing its key.
        keys = [MORE_LANGUAGES_KEY] if lang.page > 1 else []
        if suggested and lang.page > 1:
            option = prompter.utterance(lang.code, "language.option_next_page",
                                        more=MORE_LANGUAGES_KEY, key=lang.key)
            until_option = clock.until(first, option)
        elif lang.page > 1:
            option = prompter.utterance(lang.code, "language.option", key=lang.key)
            until_option = clock.all(first) + clock.until(page2 or [], option)
        else:
            option = prompter.utterance(lang.code, "language.option", key=lang.key)
            until_option = clock.until(first, option)
        keys.append(lang.key)
        main = parse_twiml(str(engine.menu(lang.code, p.start_node, notice="keys.explain"))).heard
        until_talk = clock.until(main, prompter.utterance(lang.code, talk.prompt, key=talk.key))
        keys.append(talk.key)
        talk_hold = parse_twiml(str(engine.connect(lang.code, talk.target or p.person, 0,
                                                   nobody))).heard
        listening = until_option + until_talk + clock.all(talk_hold)
        rows.append(Timing(lang.code, clock.all(first),
                           clock.all(page2) if page2 is not None else None, menus,
                           silent, 0, listening, " ".join(keys)))
    return rows


# --- commands -------------------------------------------------------------------------

profile_option = click.option(
    "--profile", "profiles", multiple=True, type=click.Path(exists=True, dir_okay=False),
    help="Hotline profile (repeatable; default: every shipped profile and HOTLINE_PROFILE).")


@click.group("prompts")
def prompts_group() -> None:
    """Prompt audio: recording scripts, import, placeholders, checks, timing."""


@prompts_group.command("script")
@click.option("--lang", required=True, help="Language code, e.g. uk.")
@click.option("--format", "fmt", type=click.Choice(["html", "csv"]), default="html",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="File to write (default: standard output).")
@profile_option
def script_command(lang: str, fmt: str, output: str | None, profiles: tuple[str, ...]) -> None:
    """Write the recording script for voice talent: id, text, notes, target duration."""
    prompts = _load(profiles)
    if lang not in prompts.languages():
        raise click.BadParameter(f"{lang!r} is not a language of "
                                 f"{', '.join(s.profile.name for s in prompts.profiles)}",
                                 param_hint="--lang")
    rates = SpeakingRates(prompts)
    lines = script_lines(prompts, lang, rates)
    untranslated = sum(1 for n in prompts.needs_of(lang) if not n.translated)
    names = " / ".join(s.profile.name for s in prompts.profiles if lang in s.profile.languages)
    text = script_csv(lines) if fmt == "csv" else script_html(lines, lang, names, untranslated)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}: {len(lines)} prompts to record", err=True)
    else:
        click.echo(text, nl=False)
    if untranslated:
        click.echo(f"note: {untranslated} prompt(s) have no {lang} translation yet and are "
                   "left out", err=True)
    _echo_stale(prompts, err=True)


def _echo_stale(prompts: PromptSet, err: bool = False) -> None:
    """Every status report names the stale files: they are never played."""
    stale = prompts.stale()
    if stale:
        click.echo(f"stale (text changed, never played): {len(stale)}", err=err)
        for audio in stale:
            click.echo(f"  {audio.lang}/{audio.path.name} ({audio.source})", err=err)


@prompts_group.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--lang", required=True, help="Language of the recordings.")
@click.option("--source", type=click.Choice(SOURCES), default="recorded", show_default=True)
@click.option("--silence", "silence_percent", type=click.FloatRange(0.1, 20), default=None,
              help="Silence threshold in % of full scale (default 1); raise it for a "
                   "noisy room.")
@profile_option
def import_command(directory: str, lang: str, source: str, silence_percent: float | None,
                   profiles: tuple[str, ...]) -> None:
    """Convert a session's recordings (named by script id) to 8 kHz mono WAV, trimmed, level."""
    prompts = _load(profiles)
    if lang not in prompts.languages():
        raise click.BadParameter(f"{lang!r} is not a profile language", param_hint="--lang")
    recordings = sorted(p for p in Path(directory).iterdir()
                        if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    level = silence_percent / 100 if silence_percent is not None else None
    with click.progressbar(recordings, label=f"importing {lang}",
                           item_show_func=lambda p: p.name if p else None) as bar:
        result = import_recordings(prompts, Path(directory), lang, source, level, bar)
    for audio in result.imported:
        click.echo(f"  {audio.lang}/{audio.path.name}: {audio.duration:.2f} s, {audio.source}")
    for problem in result.problems:
        click.echo(f"  problem: {problem}", err=True)
    click.echo(f"{len(result.imported)} imported, {len(result.problems)} problem(s)")
    if result.problems:
        raise SystemExit(1)


@prompts_group.command("synth")
@click.option("--lang", "langs", multiple=True,
              help="Language (repeatable; default: every language Twilio cannot speak).")
@click.option("--force", is_flag=True, help="Re-make current placeholders too.")
@profile_option
def synth_command(langs: tuple[str, ...], force: bool, profiles: tuple[str, ...]) -> None:
    """Make placeholder audio with espeak-ng for languages Twilio has no voice for."""
    prompts = _load(profiles)
    chosen = list(langs) or [code for code in prompts.languages() if prompts.needs_audio(code)]
    for lang in chosen:
        if lang not in prompts.languages():
            raise click.BadParameter(f"{lang!r} is not a profile language", param_hint="--lang")
        if not prompts.needs_audio(lang):
            raise click.BadParameter(f"Twilio speaks {lang!r} (<Say> comes before placeholders)"
                                     "; record it instead", param_hint="--lang")
    for lang in chosen:
        plan = synthesis_plan(prompts, lang, force)
        untranslated = sum(1 for n in prompts.needs_of(lang) if not n.translated)
        try:
            with click.progressbar(plan, label=f"synthesizing {lang}",
                                   item_show_func=lambda n: n.prompt_id if n else None) as bar:
                made = synthesize_language(prompts, lang, plan, bar)
        except AudioError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{lang}: {len(made)} made, "
                   f"{len(prompts.needs_of(lang)) - len(plan) - untranslated} already current"
                   + (f", {untranslated} without translation (not made)" if untranslated else ""))


@prompts_group.command("check")
@profile_option
def check_command(profiles: tuple[str, ...]) -> None:
    """Check format, duration, silence, staleness, coverage and voices; exit 1 on a problem."""
    prompts = _load(profiles)
    report = check_library(prompts)
    click.echo(f"{'lang':<5} {'heard':>5} {'recorded':>8} {'synth':>5} {'<Say>':>5} "
               f"{'missing':>7} {'untransl':>8}")
    for s in report.languages:
        click.echo(f"{s.lang:<5} {s.needed:>5} {s.recorded:>8} {s.synthesized:>5} "
                   f"{s.spoken_by_twilio:>5} {s.missing:>7} {s.untranslated:>8}")
    click.echo(f"stale files: {len(report.stale)}")
    for audio in report.stale:
        click.echo(f"  {audio.lang}/{audio.path.name} ({audio.source}): {audio.text}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    for problem in report.problems:
        click.echo(f"problem: {problem}", err=True)
    if report.problems:
        click.echo(f"{len(report.problems)} problem(s)", err=True)
        raise SystemExit(1)
    click.echo(f"OK: {len(read_manifest(prompts.root))} files in {prompts.root}")


@prompts_group.command("timing")
@profile_option
@click.option("--strict", is_flag=True, help="Exit 1 when a target is missed.")
def timing_command(profiles: tuple[str, ...], strict: bool) -> None:
    """Seconds a caller listens: each menu, and from the first ring to a ringing helpline."""
    prompts = _load(profiles)
    rates = SpeakingRates(prompts)
    failures = []
    for profile_set in prompts.profiles:
        p = profile_set.profile
        rows = timing_rows(prompts, profile_set, rates)
        click.echo(f"\n{p.name} ({p.path.name}); menu timeout {p.menu_timeout} s, "
                   f"{p.silent_waits} silent waits before a person")
        click.echo("With barge-in: 0 s of prompts and one key (0) to a ringing helpline.")
        click.echo(f"{'lang':<5}{'greet+p1':>9}{'page2':>7}{'longest menu':>24}"
                   f"{'silent→ring':>13}{'listening→ring (keys)':>23}")
        for row in rows:
            worst_name, (_, worst) = max(row.menus.items(), key=lambda kv: kv[1][1])
            page2 = f"{row.page2:7.1f}" if row.page2 is not None else f"{'-':>7}"
            click.echo(f"{row.lang:<5}{row.greeting_page1:9.1f}{page2}"
                       f"{worst_name:>17}{worst:7.1f}{row.silent_to_ring:13.1f}"
                       f"{row.listening_to_ring:17.1f} ({row.listening_keys})")
            if row.greeting_page1 >= LANGUAGE_MENU_TARGET:
                failures.append(f"{p.path.stem} {row.lang}: greeting + language page 1 "
                                f"{row.greeting_page1:.1f} s (target < {LANGUAGE_MENU_TARGET:g})")
            for name, (_, full) in row.menus.items():
                if full >= MENU_TARGET:
                    failures.append(f"{p.path.stem} {row.lang}: menu {name} {full:.1f} s "
                                    f"(target < {MENU_TARGET:g})")
    click.echo("\nSpeaking rates (characters per second) for text without audio files:")
    click.echo("  " + ", ".join(f"{lang} {rate:.1f} ({rates.how[lang]})"
                                for lang, rate in sorted(rates.rates.items())))
    _echo_stale(prompts)
    click.echo(f"\nTargets missed: {len(failures)}")
    for failure in failures:
        click.echo(f"  FAIL {failure}")
    if strict and failures:
        raise SystemExit(1)

