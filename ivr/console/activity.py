"""Anonymous figures from the events table, voice messages waiting, and SMS cases open."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
from flask import Flask
from markupsafe import Markup
from sqlalchemy import column, func, inspect, select, table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.console.charts import daily_chart, hbar_chart
from ivr.console.i18n import N_, _, menu_name
from ivr.console.menu import language_choices
from ivr.console.tryit import TRY_CALL_SID
from ivr.content.profile import Profile
from ivr.storage.db import EVENTS, Event, VoiceMessage

log = logging.getLogger(__name__)

MAX_EVENTS = 200_000  # a year of a small helpline's calls, many times over
TWILIO_API = "https://api.twilio.com/2010-04-01"
FETCH_TIMEOUT_SECONDS = 15
LANGUAGE_MENU_LABEL = N_("language menu")
# Staff replies by SMS, by outcome (ivr/sms/staff_replies.py), as the page names them.
STAFF_REPLY_OUTCOMES = {
    "relayed": N_("reached the person"), "wrong_pin": N_("refused: wrong or missing PIN"),
    "limited": N_("refused: too many failed replies"), "unknown": N_("refused: no such case"),
    "closed": N_("refused: case closed"), "opted_out": N_("refused: the person opted out"),
    "no_code": N_("refused: no case code"), "undecryptable": N_("refused: number unreadable"),
    "storage_failed": N_("refused: database down"), "send_failed": N_("not accepted by Twilio")}
# Wrong PINs in the period from which the page warns that a phone's number may be faked:
# more than a person mistypes.
WRONG_PIN_ALERT = 10


@dataclass
class ActivityReport:
    days: list[str] = field(default_factory=list)
    calls_per_day: list[int] = field(default_factory=list)
    sms_per_day: list[int] = field(default_factory=list)
    calls: int = 0
    sms: int = 0
    per_language: list[tuple[str, int]] = field(default_factory=list)
    menu_visits: list[tuple[str, int]] = field(default_factory=list)
    hang_ups: list[tuple[str, int]] = field(default_factory=list)
    transfers_accepted: int = 0
    transfers_declined: int = 0
    dial_outcomes: list[tuple[str, int]] = field(default_factory=list)
    messages: list[VoiceMessage] = field(default_factory=list)
    sms_cases_open: int | None = None
    staff_replies: list[tuple[str, int]] = field(default_factory=list)
    wrong_pins: int = 0
    wrong_pin_alert: bool = False  # more than typing makes: a phone's number may be faked
    error: str | None = None
    charts: dict[str, Markup] = field(default_factory=dict)
    # Menus heard and hang-ups with each menu by the name staff use (charts and tables).
    named: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def _engine(app: Flask) -> Any:
    return EVENTS.get(app).engine


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def summarize(events: list[Event], profile: Profile, first_day: date, last_day: date,
              tried: str | None = None) -> ActivityReport:
    """The report's figures from a list of events (plain function, testable without a DB)."""
    names = dict(language_choices(profile))
    report = ActivityReport()
    day_count = (last_day - first_day).days + 1
    report.days = [(first_day + timedelta(days=i)).isoformat() for i in range(day_count)]
    calls: dict[str, set[str]] = defaultdict(set)
    texts: dict[str, set[str]] = defaultdict(set)
    languages: dict[str, set[str]] = defaultdict(set)
    visits: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    staff_outcomes: Counter[str] = Counter()
    by_conversation: dict[str, list[Event]] = defaultdict(list)
    for event in sorted(events, key=lambda e: _as_utc(e.at)):
        if tried and event.conversation == tried:
            continue  # the console's own try-it calls are not calls
        conversation = event.conversation or f"event-{event.id}"
        day = _as_utc(event.at).astimezone(profile.timezone).date().isoformat()
        if event.channel == "voice":
            by_conversation[conversation].append(event)
            if event.kind == "arrived":
                calls[day].add(conversation)
            elif event.kind == "menu" and event.node:
                visits[event.node] += 1
            elif event.kind == "whisper":
                if event.outcome == "accepted":
                    report.transfers_accepted += 1
                elif event.outcome == "declined":
                    report.transfers_declined += 1
            elif event.kind == "dialed" and event.outcome:
                outcomes[event.outcome] += 1
        elif event.channel == "sms" and event.kind == "staff_reply":
            # Part of a conversation a person started, or a refused (perhaps faked) reply.
            staff_outcomes[event.outcome or "unknown"] += 1
        elif event.channel == "sms":
            texts[day].add(conversation)
        if event.language:
            languages[event.language].add(f"{event.channel}:{conversation}")
    report.calls_per_day = [len(calls.get(day, ())) for day in report.days]
    report.sms_per_day = [len(texts.get(day, ())) for day in report.days]
    report.calls, report.sms = sum(report.calls_per_day), sum(report.sms_per_day)
    report.per_language = sorted(((names.get(code, code), len(seen))
                                  for code, seen in languages.items()),
                                 key=lambda row: (-row[1], row[0]))
    report.menu_visits = visits.most_common()
    report.dial_outcomes = outcomes.most_common()
    report.staff_replies = [(_(STAFF_REPLY_OUTCOMES[outcome])
                             if outcome in STAFF_REPLY_OUTCOMES else outcome, count)
                            for outcome, count in staff_outcomes.most_common()]
    report.wrong_pins = staff_outcomes["wrong_pin"]
    report.wrong_pin_alert = report.wrong_pins >= WRONG_PIN_ALERT
    hang_ups: Counter[str] = Counter()
    for steps in by_conversation.values():
        if not any(e.kind == "ended" for e in steps):
            continue
        if any(e.kind == "dialed" and e.outcome == "completed" for e in steps):
            continue  # they talked to a person: not a hang-up in the menu
        menus = [e.node for e in steps if e.kind == "menu" and e.node]
        hang_ups[menus[-1] if menus else LANGUAGE_MENU_LABEL] += 1
    report.hang_ups = hang_ups.most_common()
    return report


def activity_report(app: Flask, profile: Profile, days: int,
                    now: datetime | None = None) -> ActivityReport:
    """The last `days` days of activity, read from the database (an error is shown, not
    raised: a database that is down must not take the console with it)."""
    from ivr.storage.crypto import keyed_hash

    moment = (now or datetime.now(UTC)).astimezone(profile.timezone)
    last_day = moment.date()
    first_day = last_day - timedelta(days=days - 1)
    since = datetime.combine(first_day, datetime.min.time(), profile.timezone).astimezone(UTC)
    engine = _engine(app)
    try:
        with Session(engine) as session:
            events = list(session.scalars(select(Event).where(Event.at >= since)
                                          .order_by(Event.at).limit(MAX_EVENTS)))
            messages = list(session.scalars(select(VoiceMessage)
                                            .where(VoiceMessage.state == "new")
                                            .order_by(VoiceMessage.at.desc()).limit(200)))
            session.expunge_all()
            cases = _sms_cases_open(session)
    except SQLAlchemyError as exc:
        log.warning("activity: the database could not be read: %s", type(exc).__name__)
        report = ActivityReport(error=_("The database could not be read; figures are "
                                        "missing."))
        return report
    tried = keyed_hash(app.config["SECRET_KEY"], TRY_CALL_SID)
    report = summarize(events, profile, first_day, last_day, tried)
    report.messages = messages
    report.sms_cases_open = cases
    report.named = {"menu": _named(report.menu_visits), "hang_ups": _named(report.hang_ups)}
    report.charts = {
        "per_day": daily_chart(_("Calls and SMS conversations per day, last %(num)s days",
                                 num=days),
                               report.days, [(_("calls"), report.calls_per_day),
                                             (_("SMS conversations"), report.sms_per_day)],
                               "chart-days"),
        "languages": hbar_chart(_("Calls and messages per language"), report.per_language,
                                "chart-languages"),
        "menu": hbar_chart(_("Menus heard"), report.named["menu"], "chart-menu"),
        "hang_ups": hbar_chart(_("Last menu before hanging up"), report.named["hang_ups"],
                               "chart-hangups"),
        "transfers": hbar_chart(_("Transfers"), [(_("accepted"), report.transfers_accepted),
                                                 (_("declined"), report.transfers_declined)],
                                "chart-transfers"),
    }
    return report


def _named(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Menu nodes by the names people use, in the operator's language."""
    return [(_(LANGUAGE_MENU_LABEL) if label == LANGUAGE_MENU_LABEL else menu_name(label), count)
            for label, count in rows]


def _sms_cases_open(session: Session) -> int | None:
    """Open SMS cases, where the SMS channel's table exists (None where it does not)."""
    bind = session.get_bind()
    if not inspect(bind).has_table("sms_cases"):
        return None
    cases = table("sms_cases", column("state"))
    return int(session.scalar(select(func.count()).select_from(cases)
                              .where(cases.c.state == "open")) or 0)


def recording_media_url(account_sid: str, recording_sid: str) -> str:
    """Twilio's REST URL of a recording's audio, built from ids, never from a stored URL."""
    return f"{TWILIO_API}/Accounts/{account_sid}/Recordings/{recording_sid}.mp3"


def fetch_recording(app: Flask, message_id: int) -> tuple[bytes, str] | None:
    """The audio of a waiting voice message, fetched from Twilio's API by the server.

    The browser gets only the audio, from this app; the account's credentials never
    leave the server. A test may set app.config["CONSOLE_RECORDING_FETCH"].
    """
    with Session(_engine(app)) as session:
        message = session.get(VoiceMessage, message_id)
        if message is None or message.state == "deleted":
            return None
        sid = message.recording_sid
    if not sid.startswith("RE") or not sid.isalnum():
        return None
    fetch = app.config.get("CONSOLE_RECORDING_FETCH") or _fetch_from_twilio
    return fetch(app, sid)


def _fetch_from_twilio(app: Flask, recording_sid: str) -> tuple[bytes, str] | None:
    account, token = app.config.get("TWILIO_ACCOUNT_SID"), app.config.get("TWILIO_AUTH_TOKEN")
    if not account or not token:
        return None
    try:
        response = requests.get(recording_media_url(account, recording_sid),
                                auth=(account, token), timeout=FETCH_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        log.warning("could not fetch a voice message from Twilio: %s", type(exc).__name__)
        return None
    if response.status_code != 200:
        log.warning("Twilio answered %d for a voice message", response.status_code)
        return None
    return response.content, "audio/mpeg"


def mark_heard(app: Flask, message_id: int) -> bool:
    with Session(_engine(app)) as session, session.begin():
        message = session.get(VoiceMessage, message_id)
        if message is None:
            return False
        message.state = "heard"
    return True
