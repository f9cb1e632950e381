"""The `ivr` group: Flask's commands, the command families, and walking or checking a hotline."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from ivr.cli import FAMILIES
from ivr.content.profile import MORE_LANGUAGES_KEY, ProfileError
from ivr.content.profile_loader import load_profile
from ivr.voice.hotline import HOTLINE, fallback_response
from ivr.voice.simulate import SimulatedCall, Step, query_of


def _create_app() -> Flask:
    """The app for a command; without a token, local mode (`ivr run` serves on loopback)."""
    from ivr import ConfigError, create_app

    local = {} if os.environ.get("TWILIO_AUTH_TOKEN") else {"LOCAL_MODE": True}
    command = click.get_current_context(silent=True)
    host = str(command.params.get("host") or "") if command and command.info_name == "run" else ""
    if local and host not in ("", "127.0.0.1", "localhost", "::1"):
        raise click.ClickException(f"local mode (no TWILIO_AUTH_TOKEN) serves loopback only, "
                                   f"not {host}")
    try:
        return create_app(local)
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
    click.echo(f"{profile.path}: {profile.name}, {len(profile.languages)} languages, "
               f"{len(profile.nodes)} menu nodes, {len(profile.destinations)} destinations: OK")


@main.command("export-fallback")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="File to write (default: standard output).")
@click.option("--caller-id", help="Number the helpline sees (the hotline's own number).")
@with_appcontext
def export_fallback(output: str | None, caller_id: str | None) -> None:
    """Write the fallback TwiML, to host where Twilio's Fallback URL can reach it."""
    hotline = HOTLINE.get()
    twiml = str(fallback_response(hotline.profile, hotline.prompter, caller_id))
    if output:
        Path(output).write_text(twiml + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(twiml)


def _show(step: Step) -> None:
    for heard in step.heard:
        if heard.kind == "say":
            click.echo(f"  [{heard.language}] {heard.text}")
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
                             "(empty = silence, a = accept the call, n = nobody answers).")
def call(lang: str | None, at: str | None, profile_path: str | None, from_number: str,
         country: str, keys: str | None) -> None:
    """Walk the call menu as a caller: type a key, Enter alone for silence, q to hang up."""
    import os

    from ivr import create_app

    config: dict[str, object] = {"LOCAL_MODE": True, "TWILIO_AUTH_TOKEN": "", "TESTING": True}
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
    simulated = SimulatedCall(app, from_number=from_number, from_country=country)
    click.echo(f"Calling {profile.name}" + (f" at {at}" if at else "") + " …")
    step = simulated.start()
    _show(step)
    if lang:
        chosen = profile.languages[lang]
        for lang_key in ([MORE_LANGUAGES_KEY] * (chosen.page - 1)) + [chosen.key]:
            click.echo(f"(presses {lang_key})")
            step = simulated.press(lang_key)
        _show(step)
    scripted = keys.split(",") if keys is not None else None
    while not step.hangup:
        if step.dial_numbers and not step.waits_for_key:
            whisper = simulated.whisper()
            click.echo("  >> the person who answers hears:")
            _show(Step(heard=whisper.heard))
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
            where = query_of(step.gather_action)
            label = where.get("n") or f"languages, page {where.get('p', '1')}"
            key = _next_key(scripted, f"[{label}] key: ")
            if key is None or key == "q":
                break
            step = simulated.press(key)
        else:
            break
        _show(step)
    click.echo("(hung up)")


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
