"""`ivr prompts`: recording scripts, importing and synthesizing audio, checks, the caller's time.

The work is done by plain functions (PromptSet, import_recordings, synthesize_language,
check_library, timing_rows); the click commands only parse options and print.
"""

from __future__ import annotations

from pathlib import Path

import click

from ivr.content.audio import (
    SOURCES,
    AudioError,
    read_manifest,
)
from ivr.content.library import (
    check_library,
    import_recordings,
    synthesis_plan,
    synthesize_language,
)
from ivr.content.profile import (
    ProfileError,
)
from ivr.content.prompt_set import AUDIO_SUFFIXES, PromptSet, default_profiles
from ivr.content.script import SpeakingRates, script_csv, script_html, script_lines
from ivr.voice.timing import (
    LANGUAGE_MENU_TARGET,
    MENU_TARGET,
    SILENT_TO_RING_TARGET,
    timing_rows,
)


def _load(profile_paths: tuple[str, ...]) -> PromptSet:
    paths = [Path(p) for p in profile_paths] or default_profiles()
    try:
        return PromptSet.load(paths)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc


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
                   f"{p.silent_waits} silent waits before a person; language menu "
                   f"{p.language_timeout} s, {p.language_silent_waits} silent wait(s)")
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
            if row.silent_to_ring > SILENT_TO_RING_TARGET:
                failures.append(f"{p.path.stem} {row.lang}: silent caller to a ringing phone "
                                f"{row.silent_to_ring:.1f} s (target ≤ {SILENT_TO_RING_TARGET:g})")
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

