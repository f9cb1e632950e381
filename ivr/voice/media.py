"""Prompt audio for Twilio's <Play>, and the health check."""

from __future__ import annotations

import hashlib
import re
from io import BytesIO

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, send_file

from ivr.voice.hotline import Hotline

bp = Blueprint("media", __name__)

SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
# Files are re-made under the same name with a new ?v= hash, so a day of caching is safe.
AUDIO_MAX_AGE = 86_400


@bp.get("/prompts/<lang>/<prompt_id>.wav")
def prompt_audio(lang: str, prompt_id: str) -> Response:
    """A prompt's WAV (Twilio's media fetches are not signed; the files are public)."""
    hotline: Hotline = current_app.extensions["hotline"]
    if not SAFE_NAME.match(lang) or not SAFE_NAME.match(prompt_id) or ".." in prompt_id:
        abort(404)
    # A recording approved in the console (held in memory) before the file of the same name.
    published = hotline.prompter.published
    recorded = published.wav(lang, prompt_id) if published else None
    path = hotline.audio.root / lang / f"{prompt_id}.wav"
    if recorded is None and not path.is_file():
        abort(404)
    source = BytesIO(recorded) if recorded is not None else path
    etag: str | bool = hashlib.sha256(recorded).hexdigest()[:32] if recorded else True
    response = send_file(source, mimetype="audio/wav", conditional=True, etag=etag,
                         max_age=AUDIO_MAX_AGE, download_name=f"{prompt_id}.wav")
    response.cache_control.public = True
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """Alive and configured, and the database at the code's migrations: else 503 with the
    reason (calls still work; SMS and voice messages cannot be answered or kept)."""
    hotline: Hotline = current_app.extensions["hotline"]
    problem = current_app.extensions["schema"].problem()
    if problem:
        response = jsonify(status="unavailable", reason=problem, hotline=hotline.profile.name)
        response.status_code = 503
        return response
    return jsonify(status="ok", hotline=hotline.profile.name,
                   languages=len(hotline.profile.languages),
                   local_mode=current_app.extensions["twilio_validator"] is None)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
