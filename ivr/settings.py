"""The app's settings, read from the environment once at start and checked there.

Production is the default: without `LOCAL_MODE=1` (or `ivr run`), a missing token, key or
limit store stops the app with a message naming the variable. Local mode is a developer's
machine: unsigned webhooks from this machine, keys kept in instance/, an SMS outbox in memory.
Imports nothing of the package, so every layer may read it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Generic, TypeVar, cast

from flask import Flask, current_app

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
MIN_SECRET_LENGTH = 16
MIN_STAFF_PIN_LENGTH = 6
# A staff PIN that applies to every helpline phone the mapping does not name.
ANY_PHONE = "*"

T = TypeVar("T")


class ConfigError(RuntimeError):
    """A setting that production cannot run without; the message names the variable."""


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_WORDS


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def is_pin(text: str) -> bool:
    """A PIN staff can type on any phone, long enough not to be guessed: 6 digits or more."""
    return text.isascii() and text.isdigit() and len(text) >= MIN_STAFF_PIN_LENGTH


def parse_staff_pins(text: str) -> dict[str, str]:
    """STAFF_REPLY_PINS: `PHONE=PIN,PHONE=PIN` (E.164 phones of the profile), or one PIN for all."""
    pins: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        number, sep, pin = item.rpartition("=")
        pins[number.strip() if sep else ANY_PHONE] = pin.strip()
    return pins

DEFAULT_REDIS_KEY_PREFIX = "ivr"


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment (test configs override by name)."""

    local_mode: bool = False
    twilio_auth_token: str = ""
    twilio_account_sid: str = ""
    # Where the REST client talks: Twilio's region (us1, ie1, au1) and edge (dublin, sydney,
    # ...). An account's credentials work only in the region they were made in.
    twilio_region: str = ""
    twilio_edge: str = ""
    # How often each process asks whether the REST API works (0: only at start).
    twilio_rest_check_seconds: float = 60.0
    secret_key: str = ""
    number_encryption_key: str = ""
    hotline_profile: str = ""
    database_url: str = ""
    public_base_url: str = ""
    trust_proxy_hops: int = 0
    ratelimit_storage_uri: str = ""
    # Starts every key the hotline writes in that store: hotlines (or test runs) sharing
    # one Redis each keep their own counts and rings.
    redis_key_prefix: str = DEFAULT_REDIS_KEY_PREFIX
    sms_use_rest_api: bool = False
    staff_reply_pins: dict[str, str] = field(default_factory=dict)
    # The staff recording line (/voice/staff, ivr/console/phone_line.py): off while empty.
    staff_recording_pin: str = ""

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None,
             overrides: Mapping[str, Any] | None = None) -> Settings:
        """The settings from the environment, each overridden by an upper-case config key."""
        env = os.environ if environ is None else environ
        given = dict(overrides or {})

        def read(name: str) -> Any:
            return given[name] if name in given else env.get(name, "")

        hops_text = _text(read("TRUST_PROXY_HOPS")) or "0"
        try:
            hops = int(hops_text)
        except ValueError:
            raise ConfigError(f"TRUST_PROXY_HOPS must be a whole number, not {hops_text!r}") \
                from None
        if hops < 0:
            raise ConfigError("TRUST_PROXY_HOPS must be 0 or more")
        check_text = _text(read("TWILIO_REST_CHECK_SECONDS")) or "60"
        try:
            check = float(check_text)
        except ValueError:
            raise ConfigError("TWILIO_REST_CHECK_SECONDS must be a number of seconds, not "
                              f"{check_text!r}") from None
        if check < 0:
            raise ConfigError("TWILIO_REST_CHECK_SECONDS must be 0 or more")
        pins = read("STAFF_REPLY_PINS")
        return cls(
            local_mode=_flag(read("LOCAL_MODE")),
            twilio_auth_token=_text(read("TWILIO_AUTH_TOKEN")),
            twilio_account_sid=_text(read("TWILIO_ACCOUNT_SID")),
            twilio_region=_text(read("TWILIO_REGION")).lower(),
            twilio_edge=_text(read("TWILIO_EDGE")).lower(),
            twilio_rest_check_seconds=check,
            secret_key=_text(read("SECRET_KEY")),
            number_encryption_key=_text(read("NUMBER_ENCRYPTION_KEY")),
            hotline_profile=_text(read("HOTLINE_PROFILE")),
            database_url=_text(read("DATABASE_URL")),
            public_base_url=_text(read("PUBLIC_BASE_URL")),
            trust_proxy_hops=hops,
            ratelimit_storage_uri=_text(read("RATELIMIT_STORAGE_URI")),
            redis_key_prefix=_text(read("REDIS_KEY_PREFIX")) or DEFAULT_REDIS_KEY_PREFIX,
            sms_use_rest_api=_flag(read("SMS_USE_REST_API")),
            staff_recording_pin=_text(read("STAFF_RECORDING_PIN")),
            staff_reply_pins=dict(pins) if isinstance(pins, Mapping)
            else parse_staff_pins(_text(pins)),
        )

    @property
    def signed(self) -> bool:
        """Webhooks must carry Twilio's signature (always, unless local mode has no token)."""
        return bool(self.twilio_auth_token) or not self.local_mode

    def problems(self, *, sends_sms: bool = False, helpline_numbers: tuple[str, ...] = (),
                 unverified_profile: str | None = None) -> list[str]:
        """Why production cannot start with these settings (empty in local mode or when fine).

        `sends_sms`: the profile sends messages of its own (a menu's "send me the numbers",
        or SMS through the REST API), which needs the account SID. `unverified_profile`:
        why the profile's facts are not yet confirmed by a person ([verification]).
        """
        if self.local_mode:
            return []
        found = []
        if not self.twilio_auth_token:
            found.append("TWILIO_AUTH_TOKEN is not set: without it anyone could drive calls "
                         "and read SMS replies (for a developer machine, set LOCAL_MODE=1)")
        if not self.public_base_url.startswith("https://"):
            found.append("PUBLIC_BASE_URL is not set to the https:// address Twilio calls: "
                         "every URL in the TwiML, and the calls the REST API places, need it")
        if len(self.secret_key) < MIN_SECRET_LENGTH:
            found.append(f"SECRET_KEY is not set (or shorter than {MIN_SECRET_LENGTH} "
                         "characters): every process must share one, kept outside the app")
        if not self.number_encryption_key:
            found.append("NUMBER_ENCRYPTION_KEY is not set: a key made here would not open "
                         "the numbers (and opt-outs) stored by other processes or releases")
        if not self.ratelimit_storage_uri:
            found.append("RATELIMIT_STORAGE_URI is not set: sign-in limits must be shared by "
                         "every worker (e.g. redis://127.0.0.1:6379/0)")
        if self.staff_recording_pin and not is_pin(self.staff_recording_pin):
            found.append(f"STAFF_RECORDING_PIN must be {MIN_STAFF_PIN_LENGTH} digits or more "
                         "(typed on a phone's keypad; a short one is guessed)")
        if sends_sms and not self.twilio_account_sid:
            found.append("TWILIO_ACCOUNT_SID is not set, but this profile sends SMS (a menu "
                         "option sends the numbers, or replies go through the REST API)")
        if unverified_profile:
            found.append(f"the profile is not verified: {unverified_profile}")
        if helpline_numbers:
            found.extend(self._staff_pin_problems(helpline_numbers))
        return found

    def _staff_pin_problems(self, helpline_numbers: tuple[str, ...]) -> list[str]:
        """What is wrong with STAFF_REPLY_PINS, each phone and PIN named by what it lacks."""
        found = []
        for phone, pin in self.staff_reply_pins.items():
            name = "the PIN for every phone" if phone == ANY_PHONE else f"the PIN for {phone}"
            if phone != ANY_PHONE and phone not in helpline_numbers:
                found.append(f"STAFF_REPLY_PINS names {phone!r}, which is not a helpline phone "
                             f"of the profile (written in E.164: {', '.join(helpline_numbers)})")
            elif not is_pin(pin):
                found.append(f"STAFF_REPLY_PINS: {name} must be {MIN_STAFF_PIN_LENGTH} digits "
                             "or more (typed on a phone's keypad; a short one is guessed)")
        missing = [n for n in helpline_numbers if not self.staff_pin(n)]
        if missing:
            found.append(f"STAFF_REPLY_PINS has no PIN for {', '.join(missing)} (of at least "
                         f"{MIN_STAFF_PIN_LENGTH} digits): a sender's number alone can be faked")
        return found

    def check(self, **needs: Any) -> None:
        """Raise ConfigError with every problem, one a line."""
        found = self.problems(**needs)
        if found:
            raise ConfigError("the hotline cannot start in production:\n- " + "\n- ".join(found))

    def staff_pin(self, helpline_number: str) -> str:
        """The PIN a helpline phone's replies must carry ('' when none is a PIN of
        MIN_STAFF_PIN_LENGTH digits or more)."""
        pin = self.staff_reply_pins.get(helpline_number) or self.staff_reply_pins.get(
            ANY_PHONE, "")
        return pin if is_pin(pin) else ""

    def as_config(self) -> dict[str, Any]:
        """The settings under Flask's upper-case config names (extensions read those)."""
        return {item.name.upper(): getattr(self, item.name) for item in fields(self)}


class ServiceKey(Generic[T]):
    """A typed handle for one of the app's services, kept in `app.extensions[name]`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def get(self, app: Flask | None = None) -> T:
        return cast(T, (app or current_app).extensions[self.name])

    def find(self, app: Flask | None = None) -> T | None:
        return cast("T | None", (app or current_app).extensions.get(self.name))

    def set(self, app: Flask, service: T) -> T:
        app.extensions[self.name] = service
        return service


SETTINGS: ServiceKey[Settings] = ServiceKey("settings")


def settings() -> Settings:
    """This app's settings (inside a request or app context)."""
    return SETTINGS.get()
