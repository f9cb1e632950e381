"""Prompts the call engine needs in every hotline, with their English source text.

A profile may reword any of them under [prompts]; translations live in the Babel
catalogs, keyed by the prompt id as message context. `prompt()` marks each text for
`pybabel extract` (keyword `prompt:1c,2`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping


def prompt(prompt_id: str, text: str) -> tuple[str, str]:
    """Mark a built-in prompt for extraction; returns (id, English text)."""
    return prompt_id, text


BUILTIN_PROMPTS: dict[str, str] = dict([
    # The first thing a caller hears: "stay on the line" comes early, because a caller who
    # presses nothing is connected to a person right after the language menu.
    prompt("greeting",
           "%(hotline)s: free, confidential help. To talk to someone, stay on the line. "
           "In danger? Hang up and call %(emergency)s."),
    # TRANSLATORS: said in its own language: name your language
    # in it ("Pour le français, appuyez sur %(key)s.").
    prompt("language.option", "For English, press %(key)s."),
    # TRANSLATORS: name your own language, as in language.option.
    prompt("language.option_next_page", "For English, press %(more)s, then %(key)s."),
    prompt("language.more", "For more languages, press %(key)s."),
    # Spoken when a language has neither a current recording nor a Twilio voice: the
    # notice plays in the caller's language where it has audio, the prompt in English.
    prompt("language.english_follows",
           "This part is not yet available in your language. You will hear it in English."),
    prompt("language.named_option", "For %(language)s, press %(key)s."),
    prompt("language.named_option_next_page",
           "For %(language)s, press %(more)s, then %(key)s."),
    prompt("language.person", "To talk to a person now, press 0."),
    prompt("keys.explain",
           "At any time, press 0 to talk to a person, star to go back, or hash to hear "
           "this again."),
    prompt("keys.wrong", "That key is not in this menu."),
    prompt("connect.hold", "Connecting you to %(destination)s. Please stay on the line."),
    prompt("connect.next", "Still trying. Please stay on the line."),
    # TRANSLATORS: heard by the helpline's staff, not by the caller.
    # The caller's language comes first: it decides who takes the call.
    prompt("whisper",
           "Caller's language: %(language)s. Hotline call. Press 1 to accept the call."),
    prompt("whisper.no_language", "no language yet"),
    # TRANSLATORS: heard by the helpline's staff, not by the caller: said to a person who
    # picks up, or presses 1, after a colleague took the call or the caller moved on.
    prompt("whisper.gone",
           "This caller is no longer waiting: a colleague took the call, or the caller moved "
           "on."),
    # TRANSLATORS: heard only when one of the helpline's own phones calls the hotline, in
    # the staff's language; callers never hear it. "hash" is the # key.
    prompt("staff.recording_pin",
           "Staff: enter the recording PIN followed by hash, or stay on the line for the "
           "hotline."),
    prompt("record.intro",
           "After the tone, leave your message. Only the helpline will hear it. Press hash "
           "when you have finished."),
    prompt("record.thanks",
           "Thank you. Your message has reached the helpline. If you are in danger, call "
           "%(emergency)s."),
    prompt("record.empty", "We did not hear a message."),
    prompt("sms.sent", "The numbers have been sent to this phone by text message."),
    prompt("sms.failed",
           "We could not send a text message. The helpline's number is %(number_now)s."),
    prompt("sms.numbers",
           "Numbers you asked for: %(number_helpline)s. Free, you can stay anonymous. "
           "Emergency: %(emergency)s."),
    # TRANSLATORS: a range of days in office hours, e.g. "Monday to Friday" (the days come
    # from CLDR in their dictionary form: where your language would decline them after a
    # preposition, write "%(first)s – %(last)s").
    prompt("hours.days", "%(first)s to %(last)s"),
    prompt("fallback.sorry",
           "Sorry, the hotline has a technical problem. We are connecting you to a person."),
    # %(number_now)s: the number of the person line that rings at this moment (office hours
    # and holidays as the ringing reads them), so that nobody is sent to a closed line.
    # SMS replies (ivr/sms/channel.py). Each must fit 2 text messages after filling: 306 Latin
    # characters, but only 134 in Cyrillic, Chinese or Arabic, so keep translations short.
    # "<id>.discreet" is used when the profile's [sms] discreet = true: no alarming words
    # on a phone someone else may read.
    prompt("sms.help",
           "%(hotline)s helps people in human trafficking: %(number_now)s, free, you can "
           "stay anonymous. Emergency: %(emergency)s. Or write here."),
    prompt("sms.help.discreet",
           "%(hotline)s: %(number_now)s, free, no need to give your name. Urgent: "
           "%(emergency)s. Or write here."),
    prompt("sms.signs",
           "Signs: forced work, little or no pay, threats or violence, papers taken, not free "
           "to leave. Help: %(number_now)s"),
    prompt("sms.signs.discreet",
           "Made to work, unpaid, threatened, papers kept, not free to go out? Talk to us: "
           "%(number_now)s, free."),
    prompt("sms.police",
           "Police emergency: %(emergency)s, day and night. Or talk to %(hotline)s first: "
           "%(number_now)s, free."),
    prompt("sms.police.discreet",
           "Urgent: %(emergency)s, day and night. Or talk to us first: %(number_now)s, "
           "free."),
    # %(keywords)s: the help word of every language, e.g. "AIDE HELP HILFE …".
    prompt("sms.languages", "Write one word: %(keywords)s"),
    prompt("sms.ack",
           "Thank you. A person at %(hotline)s will read your message and answer here. "
           "Emergency: %(emergency)s."),
    prompt("sms.ack.discreet",
           "Thank you, your message was received. We will answer here. Urgent: %(emergency)s."),
    # Sent with its English version when the sender's language is unclear: keep it short.
    prompt("sms.ack.short", "Thank you, message received. Urgent: %(emergency)s."),
    prompt("sms.relay_failed",
           "Sorry, your message could not be passed on. Please call %(number_now)s, "
           "free. Emergency: %(emergency)s."),
    prompt("sms.relayed_unanswerable",
           "Your message reached the helpline, but no reply can come here now. Please call "
           "%(number_now)s, free. Emergency: %(emergency)s."),
    prompt("sms.stopped", "You will get no more messages from us. To undo this, write START."),
    prompt("sms.started", "You can get messages from us again."),
    # To the helpline's phones, in the staff language; %(case)s is a code like K7M2.
    prompt("sms.staff.closed", "Case #%(case)s is closed or expired: your reply was not sent."),
    prompt("sms.staff.unknown", "There is no case #%(case)s: your reply was not sent."),
    prompt("sms.staff.no_code",
           "Start your reply with the case code, for example #K7M2. Nothing was sent."),
    prompt("sms.staff.opted_out",
           "Case #%(case)s has opted out (STOP): nothing can be sent to them."),
    prompt("sms.staff.failed", "Your reply to case #%(case)s could not be sent."),
    prompt("sms.staff.wrong_pin",
           "Wrong or missing PIN: your reply to #%(case)s was not sent. Write the code, "
           "then this phone's PIN, then the text."),
    # %(time)s: a time of day in the hotline's time zone, such as 14:05.
    prompt("sms.staff.limited",
           "Too many failed replies: your reply to #%(case)s was not sent. Try again after "
           "%(time)s."),
    prompt("sms.staff.flood",
           "Many replies with a wrong PIN from this phone's number: it may be faked. The "
           "right PIN still works. Wrong ones get no answer until %(time)s."),
])

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def placeholders(text: str) -> list[str]:
    """The %(name)s placeholders of a prompt text, in order."""
    return _PLACEHOLDER.findall(text)


def fill(text: str, params: Mapping[str, str]) -> str:
    """Fill a prompt's placeholders; a missing value is left as it stands, never raised."""
    return _PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), text)
