"""Prompt audio for Twilio's <Play>, and the health check."""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request, send_file

from ivr.security import VALIDATOR
from ivr.voice.hotline import HOTLINE, Hotline
from ivr.voice.together import TOGETHER

bp = Blueprint("media", __name__)

# Files are re-made under the same name with a new ?v= hash, so a day of caching is safe.
AUDIO_MAX_AGE = 86_400


def prompt_file(hotline: Hotline, lang: str, stem: str) -> Path | None:
    """The manifest's file for a language of the profile and one of its prompts, else None.

    Only files the manifest lists are served, so no name a client makes up (`..`, `%2e%2e`,
    another language's folder) can reach any other file.
    """
    profile = hotline.profile
    if lang not in profile.languages:
        return None
    prompt_ids = set(profile.all_prompt_ids())
    root = hotline.audio.root.resolve()
    for audio in hotline.audio.files.values():
        if audio.lang == lang and audio.stem == stem and audio.prompt_id in prompt_ids:
            path = audio.path.resolve()
            if path.is_relative_to(root) and path.is_file():
                return path
    return None


@bp.get("/prompts/<lang>/<prompt_id>.wav")
def prompt_audio(lang: str, prompt_id: str) -> Response:
    """A prompt's WAV (Twilio's media fetches are not signed; the files are public)."""
    hotline = HOTLINE.get()
    # A recording approved in the console (held in memory, or by its content hash in the
    # database while this worker's snapshot lags) before the file of the same name: a URL
    # another worker just put in a caller's TwiML is never a 404 here.
    published = hotline.prompter.published
    version = (request.args.get("v") or "")[:64]
    recorded = published.wav(lang, prompt_id, version) \
        if published and lang in hotline.profile.languages else None
    path = prompt_file(hotline, lang, prompt_id) if recorded is None else None
    source: BytesIO | Path
    if recorded is not None:
        source = BytesIO(recorded)
    elif path is not None:
        source = path
    else:
        abort(404)
    etag: str | bool = hashlib.sha256(recorded).hexdigest()[:32] if recorded else True
    response = send_file(source, mimetype="audio/wav", conditional=True, etag=etag,
                         max_age=AUDIO_MAX_AGE, download_name=f"{prompt_id}.wav")
    response.cache_control.public = True
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """Alive and configured, the database at the code's migrations, and Twilio's REST API
    working where phones ring together: else 503 with the reason (calls still work: SMS and
    voice messages cannot be answered or kept, or the phones ring one after another)."""
    hotline = HOTLINE.get()
    together = TOGETHER.find()
    ringing = "one after another"
    if together is not None:
        together.health.watch()
        ringing = "together" if together.ready() else "one after another for now"
    problems = [current_app.extensions["schema"].problem(),
                together.health.reason if together and not together.health.usable() else None]
    found = [problem for problem in problems if problem]
    if found:
        response = jsonify(status="unavailable", reason="; ".join(found),
                           hotline=hotline.profile.name, ringing=ringing)
        response.status_code = 503
        return response
    return jsonify(status="ok", hotline=hotline.profile.name,
                   languages=len(hotline.profile.languages),
                   local_mode=VALIDATOR.get() is None, ringing=ringing)


@bp.get("/livez")
def livez() -> Response:
    """The process answers: for a platform that restarts or stops routing to what fails its
    check (/healthz also fails for what a restart cannot mend: a database, Twilio)."""
    return jsonify(status="ok")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
