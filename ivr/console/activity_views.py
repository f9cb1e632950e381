"""The console's Activity page and the voice messages it lists (thin views over
ivr.console.activity); added to the console's blueprint."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ivr.console.activity import activity_report, fetch_recording, mark_heard
from ivr.console.i18n import _
from ivr.console.views import bp, hotline


@bp.get("/activity")
def activity() -> str:
    h = hotline()
    try:
        days = min(max(int(request.args.get("days", "30")), 1), 366)
    except ValueError:
        days = 30
    report = activity_report(current_app, h.profile, days)
    return render_template("console/activity.html", title=_("Activity"), report=report,
                           days=days, timezone=h.profile.timezone.key)


@bp.get("/messages/<id:message_id>/audio")
def message_audio(message_id: int) -> Response:
    """A caller's voice message, fetched from Twilio by the server with its credentials."""
    found = fetch_recording(current_app, message_id)
    if found is None:
        abort(404)
    data, mimetype = found
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/messages/<id:message_id>/heard")
def message_heard(message_id: int) -> BaseResponse:
    if not mark_heard(current_app, message_id):
        abort(404)
    flash(_("Message marked as heard."))
    return redirect(url_for("console.activity") + "#messages")
