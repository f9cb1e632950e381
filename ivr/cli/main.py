"""The `ivr` group: Flask's commands, the command families, and walking or checking a hotline."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import click
import phonenumbers
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from ivr.cli import FAMILIES
from ivr.console.tryit import NoEvents
from ivr.content.audio import AudioFile
from ivr.content.i18n import Catalogs
from ivr.content.profile import MORE_LANGUAGES_KEY, ProfileError, number_text_problem
from ivr.content.profile_loader import load_profile
from ivr.content.spoken_check import spoken_text_problems
from ivr.voice.hotline import HOTLINE
from ivr.voice.simulate import SimulatedCall, SimulatedRest, Step, state_of


def _create_app() -> Flask:
    """The app for a command; without a token, local mode (`ivr run` serves on loopback)."""
    from ivr import ConfigError, create_app

    local = {} if os.environ.get("TWILIO_AUTH_TOKEN") else {"LOCAL_MODE": True}
    command = click.get_current_context(silent=True)
    host = str(command.params.get("host") or "") if command and command.info_name == "run" else ""
    if local and host not in ("", "127.0.0.1", "localhost", "::1"):
        raise click.ClickException(f"local mode (no TWILIO_AUTH_TOKEN) serves loopback only, "
                                   f"not {host}")
    config: dict[str, object] = dict(local)
    if command and command.command_path.split()[1:2] == ["db"]:
        config["CHECK_SCHEMA_AT_START"] = False  # `ivr db` says the schema's state itself
    try:
        return create_app(config)
    except (ProfileError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """The hotline IVR: run it, walk its menu, manage its languages and data."""


for family in FAMILIES:
    main.add_command(family)


@main.command("check-profile")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def check_profile(path: str | None) -> None:
    """Check a hotline profile (default: HOTLINE_PROFILE, else Luxembourg)."""
    import os

    try:
        profile = load_profile(path or os.environ.get("HOTLINE_PROFILE") or None)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    problems = spoken_text_problems(profile, Catalogs(list(profile.languages)))
    if problems:
        raise click.ClickException("\n".join(problems))
    for warning in profile.warnings:
        click.echo(f"warning: {warning}")
    click.echo(f"{profile.path}: {profile.name}, {len(profile.languages)} languages, "
               f"{len(profile.nodes)} menu nodes, {len(profile.destinations)} destinations: OK")


@main.command("export-fallback")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="File to write (default: standard output).")
@click.option("--caller-id", help="Number the helpline sees (the hotline's own number).")
@click.option("--whisper-url", help="A whisper document hosted apart from this app (each "
              "phone hears it before the call is bridged; no key: the phone is passed).")
@with_appcontext
def export_fallback(output: str | None, caller_id: str | None, whisper_url: str | None) -> None:
    """Write the fallback TwiML, to host where Twilio's Fallback URL can reach it."""
    hotline = HOTLINE.get()
    if caller_id is not None:
        caller_id = _valid_number(caller_id, hotline.profile.country)
    twiml = hotline.fallback.twiml(caller_id=caller_id, whisper_url=whisper_url)
    if output:
        Path(output).write_text(twiml + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(twiml)


def _valid_number(text: str, country: str) -> str:
    """A phone number in E.164, or a clear error (Twilio rejects a malformed callerId)."""
    if problem := number_text_problem(text):
        raise click.BadParameter(problem, param_hint="--caller-id")
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException as exc:
        raise click.BadParameter(f"{text!r} is not a phone number ({exc})",
                                 param_hint="--caller-id") from exc
    if not phonenumbers.is_valid_number(number):
        raise click.BadParameter(f"{text!r} is not a valid number in its country's numbering "
                                 "plan", param_hint="--caller-id")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _show(step: Step, recordings: dict[str, AudioFile] | None = None) -> None:
    for heard in step.heard:
        if heard.kind == "say":
            click.echo(f"  [{heard.language}] {heard.text}")
            continue
        audio = (recordings or {}).get(heard.text)
        if audio:  # the words of a recorded or synthesized prompt, from the manifest
            click.echo(f"  [{audio.lang}, {audio.source}] {audio.text}  ({heard.text})")
        else:
            click.echo(f"  [audio] {heard.text}")
    if step.dial_numbers:
        click.echo(f"  >> ringing {', '.join(step.dial_numbers)}"
                   f" (shown to them as {step.caller_id or 'the caller'})")
    if step.record_action:
        click.echo("  >> recording a voice message for the helpline")
    if step.hangup:
        click.echo("  >> call ends")


@main.command("call")
@click.option("--lang", help="Choose this language at the language menu (e.g. uk).")
@click.option("--at", "at", help='Pretend it is this local time, e.g. "2026-11-23 10:00".')
@click.option("--profile", "profile_path", type=click.Path(exists=True, dir_okay=False),
              help="Hotline profile (default: HOTLINE_PROFILE, else Luxembourg).")
@click.option("--from", "from_number", default="",
              help="The caller's number (never stored; default: an example mobile number "
                   "of the hotline's country).")
@click.option("--country", default="", help="Twilio's FromCountry, e.g. UA.")
@click.option("--keys", help="Keys to press, comma-separated, instead of asking "
                             "(empty = silence, a = accept the call, n = nobody answers; "
                             "phones ringing together: 1, 2… that phone's person accepts, v = "
                             "a voicemail answers the first, the second accepts).")
@click.option("--rest-refuses", is_flag=True,
              help="Twilio's REST API refuses (a rotated token): see what callers get then.")
def call(lang: str | None, at: str | None, profile_path: str | None, from_number: str,
         country: str, keys: str | None, rest_refuses: bool) -> None:
    """Walk the call menu as a caller: type a key, Enter alone for silence, q to hang up.

    Phones ring as in production: together where the profile says so (Twilio's REST API is
    simulated: no call is placed), else one after another."""
    import os

    from ivr import create_app

    # A walk through the menu is not a call: its events go nowhere (as in the console's
    # Try-it), and nothing reaches the real database (so no schema to check, no false alarm).
    config: dict[str, object] = {"LOCAL_MODE": True, "TWILIO_AUTH_TOKEN": "", "TESTING": True,
                                 "DATABASE_URL": "sqlite://", "CHECK_SCHEMA_AT_START": False,
                                 "RING_API": SimulatedRest(refuses=rest_refuses),
                                 "TWILIO_REST_CHECK_SECONDS": 0}
    if profile_path:
        config["HOTLINE_PROFILE"] = profile_path
    try:
        profile = load_profile(profile_path or os.environ.get("HOTLINE_PROFILE") or None)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    if at:
        try:
            moment = datetime.fromisoformat(at).replace(tzinfo=profile.timezone)
        except ValueError as exc:
            raise click.BadParameter(f"{at!r}: use YYYY-MM-DD HH:MM", param_hint="--at") from exc
        config["CLOCK"] = lambda: moment
    if lang and lang not in profile.languages:
        raise click.BadParameter(f"{lang!r} is not one of {', '.join(profile.languages)}",
                                 param_hint="--lang")
    try:
        app = create_app(config)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    app.extensions["events"] = NoEvents()
    library = app.extensions["hotline"].prompter.audio
    recordings = {library.url(audio): audio for audio in library.files.values()}
    simulated = SimulatedCall(app, from_number=from_number, from_country=country)
    click.echo(f"Calling {profile.name}" + (f" at {at}" if at else "") + " …"
               + (" (Twilio's REST API refuses: no phone can ring together)"
                  if rest_refuses else ""))
    step = simulated.start()
    _show(step, recordings)
    if lang:
        chosen = profile.languages[lang]
        for lang_key in ([MORE_LANGUAGES_KEY] * (chosen.page - 1)) + [chosen.key]:
            click.echo(f"(presses {lang_key})")
            step = simulated.press(lang_key)
            _show(step, recordings)  # the second language page too
    scripted = keys.split(",") if keys is not None else None
    while not step.hangup:
        if step.rings_together:
            after = _ring_together(simulated, scripted, recordings)
            if after is None:
                break
            step = after
            continue
        if step.dial_numbers and not step.waits_for_key:
            whisper = simulated.whisper()
            click.echo("  >> the person who answers hears:")
            _show(Step(heard=whisper.heard), recordings)
            answer = _next_key(scripted, "accept the call? [a]ccept / [n]obody answers: ")
            if answer is None or answer == "q":
                break
            step = simulated.ring_out(bridged=answer == "a")
        elif step.record_action:
            spoken = _next_key(scripted, "speak, then press Enter (q to hang up): ")
            if spoken is None or spoken == "q":
                break
            step = simulated.leave_message()
        elif step.waits_for_key:
            where = state_of(step.gather_action)
            label = where.node or f"languages, page {where.page or 1}"
            key = _next_key(scripted, f"[{label}] key: ")
            if key is None or key == "q":
                break
            if not key and scripted is None:  # a typed Enter: say what the caller did
                click.echo("(silence)")
            step = simulated.press(key)
        else:
            break
        _show(step, recordings)
    click.echo("(hung up)")


def _ring_together(simulated: SimulatedCall, scripted: list[str] | None,
                   recordings: dict[str, AudioFile]) -> Step | None:
    """Phones ringing together: the hold, each whisper, then who accepts (asked)."""
    story = simulated.ring_story()
    click.echo("  >> the caller waits in a queue of their own and hears:")
    _show(story.hold, recordings)
    click.echo(f"  >> ringing together: {', '.join(story.phones)} (shown to them as the "
               "hotline's number)")
    if story.whispers:
        click.echo("  >> the person who answers hears:")
        _show(Step(heard=story.whispers[0].heard), recordings)
    choices = "/".join(f"[{i + 1}] {phone} accepts" for i, phone in enumerate(story.phones))
    answer = _next_key(scripted, f"who accepts? {choices} / [v]oicemail on the first, then the "
                                 "second accepts / [n]obody answers: ")
    if answer is None or answer == "q":
        return None
    accepting = int(answer) - 1 if answer.isdigit() else 1 if answer == "v" else None
    if answer == "a":
        accepting = 0
    step, story = simulated.ring_out_together(accepting, voicemail_first=answer == "v")
    for phone in story.declined:
        click.echo(f"  >> {phone}: a voicemail answered, heard the whisper, pressed nothing")
    if story.accepted:
        click.echo(f"  >> {story.accepted} pressed 1: the caller is put through")
    else:
        click.echo("  >> nobody accepted: the caller leaves the queue")
    for phone in story.stopped:
        click.echo(f"  >> {phone} stopped ringing (the hotline cancelled its call)")
    _show(step, recordings)
    return step


def _next_key(scripted: list[str] | None, prompt: str) -> str | None:
    if scripted is not None:
        if not scripted:
            return None
        key = scripted.pop(0).strip()
        click.echo(f"{prompt}{key or '(silence)'}")
        return key
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.strip() if line else None
    return click.prompt(prompt, default="", show_default=False, prompt_suffix="").strip()
