"""The console's pages for the helpline's own words and voices: progress, edit, record.

Thin views over ivr.console.editing, recording and progress; added to the console's blueprint.
"""

from __future__ import annotations

import json

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ivr.console import CONTENT_SECURITY_POLICY
from ivr.console.editing import (
    DRAFT,
    EditError,
    approve,
    fill_values,
    history,
    live_text,
    placeholder_problems,
    preview,
    restore,
    save_draft,
    single_sign_off,
)
from ivr.console.i18n import _, language_label, prompt_label, prompt_name
from ivr.console.ids import form_id
from ivr.console.menu import language_choices, text_direction
from ivr.console.models import PromptRecording
from ivr.console.progress import HEARD_KINDS, all_progress, language_progress, to_record
from ivr.console.published import PublishedContent, hotline_key, sha256_of
from ivr.console.recording import (
    RecordingError,
    approve_recording,
    recordings_of,
    restore_recording,
    save_recording,
    telephone_audio,
    text_to_read,
)
from ivr.console.reviews import current_reviews
from ivr.console.store import engine, session_scope
from ivr.console.views import bp, hotline, operator
from ivr.content.i18n import SOURCE_LANGUAGE
from ivr.content.texts import placeholders

# The recording page may use the microphone (and only this site may); the rest may not.
MICROPHONE_POLICY = "camera=(), microphone=(self), geolocation=()"
HOW = ("browser", "upload")


def _published() -> PublishedContent:
    return current_app.extensions["published"]


def _publish_now() -> None:
    """This worker at once; the others at their next refresh (within a minute)."""
    _published().refresh(engine())


def _translated(lang: str) -> str:
    if lang not in hotline().profile.languages or lang == SOURCE_LANGUAGE:
        abort(404)
    return lang


@bp.get("/")
def index() -> str:
    """The front page: how far each language is, and what a caller hears in it today."""
    with session_scope() as db:
        reviews = current_reviews(db)
    return render_template("console/progress.html", title=_("Overview"), kinds=HEARD_KINDS,
                           languages=all_progress(hotline(), reviews))


@bp.get("/prompts/<lang>")
def prompts_of(lang: str) -> str:
    """Every prompt a caller hears in one language: its text, what speaks it, its state."""
    _translated(lang)
    with session_scope() as db:
        reviews = current_reviews(db)
    progress = language_progress(hotline(), lang, reviews)
    queue = [(pid, text_to_read(hotline(), lang, pid)) for pid in to_record(hotline(), lang)]
    return render_template("console/prompts.html",
                           title=_("Prompts: %(language)s", language=language_label(lang)),
                           progress=progress, queue=queue, kinds=HEARD_KINDS,
                           direction=text_direction(lang),
                           languages=language_choices(hotline().profile))


def _edit_page(lang: str, prompt_id: str, typed: str | None = None,
               problems: list[str] | None = None, status: int = 200) -> tuple[str, int]:
    h = hotline()
    if prompt_id not in h.profile.all_prompt_ids():
        abort(404)
    source = h.profile.prompt_text(prompt_id)
    me = operator().name
    with session_scope() as db:
        live = live_text(db, h, lang, prompt_id)
        versions = history(db, h, lang, prompt_id)
        recordings = recordings_of(db, h, lang, prompt_id)
    draft = next((v for v in versions if v.state == DRAFT), None)
    to_read = text_to_read(h, lang, prompt_id)
    active = next((r for r in recordings if r.active), None)
    take = next((r for r in recordings if r.state == DRAFT), None)
    editing = typed if typed is not None else (draft.text if draft else live.text) or ""
    return render_template(
        "console/prompt.html", title=_("%(prompt)s in %(language)s", prompt=prompt_name(
            prompt_id), language=language_label(lang)),
        lang=lang, lang_name=language_label(lang), prompt_id=prompt_id,
        source=source, live=live, draft=draft, versions=versions, editing=editing,
        preview=preview(h, lang, prompt_id, editing) if editing else "",
        problems=problems or [], direction=text_direction(lang),
        expected=sorted(set(placeholders(source))),
        values=json.dumps(fill_values(h, lang, prompt_id), ensure_ascii=False),
        may_approve=draft is not None and (draft.author != me or single_sign_off(h.profile)),
        to_read=to_read, active=active, recordings=recordings[:10], take=take,
        may_approve_take=take is not None and (take.author != me
                                               or single_sign_off(h.profile)),
        active_current=bool(active and to_read and active.text_sha256 == sha256_of(to_read)),
        heard_url=h.prompter.utterance(lang, prompt_id, **fill_values(h, lang, prompt_id))
        .audio_url), status


def _with_microphone(page: tuple[str, int]) -> Response:
    response = Response(page[0], status=page[1], mimetype="text/html")
    response.headers["Permissions-Policy"] = MICROPHONE_POLICY
    # The take is played back from memory (a blob: URL) before it is sent.
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "media-src 'self'", "media-src 'self' blob:")
    return response


def _back(lang: str, prompt_id: str, anchor: str = "") -> BaseResponse:
    return redirect(url_for("console.prompt_edit", lang=lang, prompt_id=prompt_id) + anchor)


@bp.route("/prompts/<lang>/<prompt_id>", methods=["GET", "POST"])
def prompt_edit(lang: str, prompt_id: str) -> BaseResponse:
    """Correct a translation: preview it filled, save it as a draft; record it."""
    _translated(lang)
    if request.method == "GET":
        return _with_microphone(_edit_page(lang, prompt_id))
    text = (request.form.get("text") or "")[:4000]
    source = hotline().profile.prompt_text(prompt_id) \
        if prompt_id in hotline().profile.all_prompt_ids() else ""
    if request.form.get("action") != "save":  # "Preview" without the page's script
        return _with_microphone(_edit_page(lang, prompt_id, text,
                                           placeholder_problems(source, text)))
    try:
        with session_scope() as db:
            save_draft(db, hotline(), operator().name, lang, prompt_id, text)
    except EditError as exc:
        return _with_microphone(_edit_page(lang, prompt_id, text, [str(exc)], 400))
    flash(_("%(prompt)s in %(lang)s: draft saved. You may approve it yourself: this hotline "
            "allows single sign-off.", prompt=prompt_label(prompt_id),
            lang=language_label(lang))
          if single_sign_off(hotline().profile) else
          _("%(prompt)s in %(lang)s: draft saved. Another operator approves it.",
            prompt=prompt_label(prompt_id),
            lang=language_label(lang)))
    return _back(lang, prompt_id, "#draft")


@bp.post("/prompts/<lang>/<prompt_id>/approve")
def prompt_approve(lang: str, prompt_id: str) -> BaseResponse:
    _translated(lang)
    try:
        with session_scope() as db:
            approve(db, hotline(), operator().name, form_id("version"))
    except (EditError, ValueError) as exc:
        flash(str(exc) if isinstance(exc, EditError) else _("There is no such draft."), "error")
        return _back(lang, prompt_id, "#draft")
    _publish_now()
    flash(_("%(prompt)s in %(lang)s: approved. Callers hear it within a minute.",
            prompt=prompt_label(prompt_id),
            lang=language_label(lang)))
    return _back(lang, prompt_id)


@bp.post("/prompts/<lang>/<prompt_id>/restore")
def prompt_restore(lang: str, prompt_id: str) -> BaseResponse:
    _translated(lang)
    try:
        with session_scope() as db:
            restore(db, hotline(), operator().name, form_id("version"),
                    previous=request.form.get("which") == "previous")
    except (EditError, ValueError) as exc:
        flash(str(exc) if isinstance(exc, EditError) else _("There is no such version."),
              "error")
        return _back(lang, prompt_id, "#history")
    flash(_("%(prompt)s in %(lang)s: the earlier text is saved as a draft, to approve.",
            prompt=prompt_label(prompt_id),
            lang=language_label(lang)))
    return _back(lang, prompt_id, "#draft")


@bp.post("/prompts/<lang>/<prompt_id>/recording")
def prompt_record(lang: str, prompt_id: str) -> BaseResponse:
    """A recording from the page's recorder or an uploaded file, made telephone-ready."""
    _translated(lang)
    upload = request.files.get("audio")
    how = request.form.get("how") or ""
    how = how if how in HOW else "upload"
    seen = request.form.get("text_sha256") or ""
    h = hotline()
    to_read = text_to_read(h, lang, prompt_id) if prompt_id in h.profile.all_prompt_ids() \
        else None
    try:
        if upload is None or not upload.filename:
            raise RecordingError(_("Choose a file or record first."))
        if to_read is None:
            raise RecordingError(_("This prompt has no text in this language yet: "
                                   "translate it first."))
        if seen and seen != sha256_of(to_read):
            raise RecordingError(_("The text changed while you were recording: read the new "
                                   "text and record again."))
        audio = telephone_audio(upload.read(), upload.filename)
        with session_scope() as db:
            save_recording(db, h, operator().name, lang, prompt_id, audio, how, to_read)
    except RecordingError as exc:
        flash(_("Recording refused: %(why)s", why=exc), "error")
        return _back(lang, prompt_id, "#record")
    flash(_("%(prompt)s in %(lang)s: take saved (%(seconds).1f s). You may approve it "
            "yourself: this hotline allows single sign-off.", prompt=prompt_label(prompt_id),
            lang=language_label(lang), seconds=audio.duration) if single_sign_off(h.profile) else
          _("%(prompt)s in %(lang)s: take saved (%(seconds).1f s). Another operator approves "
            "it; callers hear it then.", prompt=prompt_label(prompt_id),
            lang=language_label(lang),
            seconds=audio.duration))
    return _back(lang, prompt_id, "#take")


@bp.post("/prompts/<lang>/<prompt_id>/recording/approve")
def prompt_take_approve(lang: str, prompt_id: str) -> BaseResponse:
    _translated(lang)
    try:
        with session_scope() as db:
            approve_recording(db, hotline(), operator().name,
                              form_id("take"))
    except (RecordingError, ValueError) as exc:
        flash(str(exc) if isinstance(exc, RecordingError) else _("There is no such take."),
              "error")
        return _back(lang, prompt_id, "#take")
    _publish_now()
    flash(_("%(prompt)s in %(lang)s: take approved. Callers hear it within a minute.",
            prompt=prompt_label(prompt_id),
            lang=language_label(lang)))
    return _back(lang, prompt_id, "#record")


@bp.post("/prompts/<lang>/<prompt_id>/recording/restore")
def prompt_take_restore(lang: str, prompt_id: str) -> BaseResponse:
    _translated(lang)
    try:
        with session_scope() as db:
            restore_recording(db, hotline(), operator().name,
                              form_id("take"))
    except (RecordingError, ValueError) as exc:
        flash(str(exc) if isinstance(exc, RecordingError) else _("There is no such take."),
              "error")
        return _back(lang, prompt_id, "#record")
    flash(_("%(prompt)s in %(lang)s: the earlier take is saved again, to approve.",
            prompt=prompt_label(prompt_id),
            lang=language_label(lang)))
    return _back(lang, prompt_id, "#take")


@bp.get("/recordings/<id:recording_id>.wav")
def recording_audio(recording_id: int) -> Response:
    """Any stored recording, current or replaced, to listen back in the console."""
    with session_scope() as db:
        row = db.get(PromptRecording, recording_id)
        if row is None or row.hotline != hotline_key(hotline().profile):
            abort(404)
        data = row.wav
    return Response(data, mimetype="audio/wav")


@bp.app_template_filter("sha256")
def sha256_filter(text: str) -> str:
    return sha256_of(text)
