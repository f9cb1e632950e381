"""The SMS channel through its webhook: keywords, relay, the helpline's replies, opt-out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from ivr.content.profile_loader import load_profile
from ivr.sms.text import count_segments
from tests.conftest import PROFILES, Clock, sign
from tests.golden_files import check_golden
from tests.test_sms_support import (
    OTHER_PERSON,
    PERSON,
    STAFF,
    STAFF_2,
    case_code,
    messages,
    new_sender,
    send_sms,
    shared_app,
    sms_app,
)

KEYWORD_CASES = [
    (profile_name, kind, code, word)
    for profile_name, path in sorted(PROFILES.items())
    for kind, by_language in sorted(load_profile(path).sms.keywords.items())
    if kind in ("help", "signs", "police", "languages")
    for code, words in sorted(by_language.items())
    for word in words
]


@pytest.fixture
def lu(make_app: Callable[..., Flask]) -> Flask:
    return sms_app(make_app)


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Flask]:
    """One app per profile for the many keyword cases (each case texts from its own number)."""
    directory = tmp_path_factory.mktemp("sms_apps")
    return {name: shared_app(name, directory) for name in PROFILES}


@pytest.mark.parametrize(("profile_name", "kind", "code", "word"), KEYWORD_CASES)
def test_every_keyword_is_answered_in_its_language(
        apps: dict[str, Flask], profile_name: str, kind: str, code: str, word: str) -> None:
    app = apps[profile_name]
    channel = app.extensions["sms"]
    profile = channel.profile
    replies = messages(send_sms(app.test_client(), f"  {word.lower()}! ", from_=new_sender()))
    assert len(replies) == 1 and replies[0][0] is None
    text = replies[0][1]
    match = channel.keywords.match(word)
    assert match is not None and match.kind == kind
    lang = match.language(None, profile.default_language)
    assert code in match.languages
    # The whole reply, as reviewed (tests/golden/sms/; tests/golden_files.py to update).
    check_golden(f"sms/{profile_name}-{kind}-{code}-{word}.txt", text + "\n")
    assert count_segments(text).count <= 2, (lang, text)
    if kind in ("help", "police"):
        assert profile.emergency_number in text
    if kind == "help":  # the helpline's number, or the one that rings at this hour
        given = [channel.prompter.params(lang, True)["number_helpline"],
                 *channel.prompter.numbers_now_ever(lang, True)]
        assert any(number in text for number in given), text


@pytest.mark.parametrize("body", ["HELP", "help", " Help. ", "¡HELP!", "HÉLP", "\tHELP\n",
                                  "help 🙏", "«HELP»"])
def test_keyword_matching_ignores_case_accents_and_edge_punctuation(lu: Flask,
                                                                    body: str) -> None:
    [(to, text)] = messages(send_sms(lu.test_client(), body))
    assert to is None and "+352 27 36 56 46" in text


@pytest.mark.parametrize("body", ["ПOMOЩЬ", "ПОМОЩЬ", "помощь", "POLIСЕ"])  # mixed scripts
def test_cyrillic_and_latin_look_alikes_match(lu: Flask, body: str) -> None:
    [(to, text)] = messages(send_sms(lu.test_client(), body))
    assert to is None and "113" in text
    assert not text.startswith("#")


def test_a_keyword_in_a_sentence_is_free_text_and_reaches_the_helpline(lu: Flask) -> None:
    replies = messages(send_sms(lu.test_client(), "I need help, please"))
    assert {to for to, _ in replies} == {STAFF, STAFF_2, None}


def test_free_text_is_relayed_with_a_case_code_and_acknowledged(lu: Flask) -> None:
    body = "Мені потрібна допомога, у мене забрали паспорт"
    replies = messages(send_sms(lu.test_client(), body))
    relays = [(to, text) for to, text in replies if to]
    assert [to for to, _ in relays] == [STAFF, STAFF_2]
    code = case_code(relays[0][1])
    assert relays[0][1] == f"#{code} [uk] {body}"
    assert PERSON not in "".join(text for _, text in replies)
    [ack] = [text for to, text in replies if to is None]
    assert ack == ("Дякуємо, отримано. Відповідаємо понеділок - пʼятниця 09:00-12:00 і "
                   "13:00-17:00. Терміново: 113.")
    assert "113" in ack and count_segments(ack).count <= 2


def test_the_language_of_the_latest_text_wins_over_an_earlier_keyword(lu: Flask) -> None:
    """Issue #23: a texter is answered in the language they wrote in last."""
    client = lu.test_client()
    send_sms(client, "AJUTOR")  # Romanian
    replies = messages(send_sms(client, "I was told I would work in a restaurant"))
    assert "[en]" in replies[0][1]
    assert replies[-1][1].startswith("Thank you")


def test_an_unclear_text_keeps_the_language_of_the_last_keyword(lu: Flask) -> None:
    client = lu.test_client()
    send_sms(client, "AJUTOR")  # Romanian
    replies = messages(send_sms(client, "ok"))
    assert "[ro]" in replies[0][1]
    assert replies[-1][1] == ("Multumim, mesajul a fost primit. Raspundem de luni până vineri "
                              "09:00-12:00 și 13:00-17:00. Urgent: 113.")


def test_an_ambiguous_keyword_does_not_change_the_remembered_language(lu: Flask) -> None:
    client = lu.test_client()
    send_sms(client, "ДОПОМОГА")
    [(_, police)] = messages(send_sms(client, "POLICE"))  # en and fr: neither is uk
    assert "+352 24 460 3220" in police  # grouped as the helpline's page prints it
    replies = messages(send_sms(client, "Дякую"))
    assert "[uk]" in replies[0][1]


LU_MOBILE = "+352621987001"  # Luxembourg's own country: suggests no language


def test_a_keyword_of_one_language_replaces_the_remembered_language(lu: Flask) -> None:
    client = lu.test_client()
    send_sms(client, "HELP", from_=LU_MOBILE)  # English
    [(_, hilfe)] = messages(send_sms(client, "HILFE", from_=LU_MOBILE))
    assert hilfe == ("INFOTRAITE: +352 27 36 56 46, kostenlos, "
                     "ohne Namen. Dringend: 113.")
    replies = messages(send_sms(client, "ok", from_=LU_MOBILE))
    assert replies[0][1] == f"#{case_code(replies[0][1])} [de] ok"
    assert replies[-1] == (None, "Danke, Ihre Nachricht ist angekommen. Wir antworten Montag "
                                 "bis Freitag 09:00-12:00 Uhr und 13:00-17:00 Uhr. Dringend: 113.")


def test_an_ambiguous_keyword_as_the_first_message_sets_the_language(lu: Flask) -> None:
    # POLICE is English and French; nothing known before, so French (the default) is kept:
    # a later "ok" gets the full French acknowledgement, not the two-language short one.
    client = lu.test_client()
    send_sms(client, "POLICE", from_=LU_MOBILE)
    replies = messages(send_sms(client, "ok", from_=LU_MOBILE))
    assert replies[0][1] == f"#{case_code(replies[0][1])} [fr] ok"
    assert replies[-1] == (None, "Merci, votre message est bien reçu. Nous répondons du lundi "
                                 "au vendredi 09:00-12:00 et 13:00-17:00. Urgent : 113.")


def test_a_keyword_a_profile_adds_without_a_reply_answers_with_the_numbers(
        tmp_path: Path, make_app: Callable[..., Flask]) -> None:
    source = PROFILES["luxembourg"].read_text(encoding="utf-8")
    added = tmp_path / "shelter.toml"
    added.write_text(source + '\n[sms.keywords.shelter]\nen = ["SHELTER"]\nde = ["OBDACH"]\n',
                     encoding="utf-8")
    client = sms_app(make_app, str(added)).test_client()
    assert messages(send_sms(client, "shelter")) == [
        (None, "INFOTRAITE: +352 27 36 56 46, free, no need to give your "
               "name. Urgent: 113.")]
    assert messages(send_sms(client, "Obdach", from_=OTHER_PERSON)) == [
        (None, "INFOTRAITE: +352 27 36 56 46, kostenlos, ohne Namen. "
               "Dringend: 113.")]


HELP_FR = ("INFOTRAITE : +352 27 36 56 46, gratuit, sans donner votre nom. "
           "Urgent : 113.")
HELP_DE = ("INFOTRAITE: +352 27 36 56 46, kostenlos, ohne Namen. "
           "Dringend: 113.")


def test_an_empty_message_gets_the_numbers_in_the_senders_language(lu: Flask) -> None:
    # A picture without text, or only spaces: nothing to relay, the numbers back.
    client = lu.test_client()
    assert messages(send_sms(client, "", from_=LU_MOBILE)) == [(None, HELP_FR)]
    assert messages(send_sms(client, " \n\t ", from_=LU_MOBILE)) == [(None, HELP_FR)]
    send_sms(client, "HILFE", from_=LU_MOBILE)
    assert messages(send_sms(client, "", from_=LU_MOBILE)) == [(None, HELP_DE)]


def test_a_long_text_is_relayed_cut_to_one_twilio_message(lu: Flask) -> None:
    body = " ".join(f"word{n}" for n in range(400))  # 2,689 characters
    relays = [text for to, text in messages(send_sms(lu.test_client(), body)) if to]
    head = f"#{case_code(relays[0])} [uk] "  # no language in the text: the number's country's
    assert relays == [head + body[:1600 - len(head) - 3] + "..."] * 2
    assert len(relays[0]) == 1600  # Twilio's limit for one outgoing message


def test_the_helpline_replies_by_case_code_and_the_person_gets_it(lu: Flask) -> None:
    client = lu.test_client()
    code = case_code(messages(send_sms(client, "Je suis bloquée, aidez-moi"))[0][1])
    answer = messages(send_sms(client, f"#{code.lower()}: Nous pouvons vous aider.",
                               from_=STAFF))
    assert answer == [(PERSON, "Nous pouvons vous aider.")]
    # The same person writing again keeps the case; another person gets another one.
    again = case_code(messages(send_sms(client, "Merci, je suis à la gare"))[0][1])
    other = case_code(messages(send_sms(client, "Help me please, I am alone",
                                        from_=OTHER_PERSON))[0][1])
    assert again == code and other != code


NO_CODE_FR = ("Commencez votre réponse par le code du dossier, par exemple #K7M2. "
              "Rien n'a été envoyé.")


@pytest.mark.parametrize(("body", "answer"), [
    ("Hello, where are you?", NO_CODE_FR),
    ("#ZZZZ hello", "Aucun dossier #ZZZZ : votre réponse n'a pas été envoyée."),
    ("#K7M2", NO_CODE_FR),
])
def test_a_helpline_message_without_a_usable_case_is_refused(lu: Flask, body: str,
                                                             answer: str) -> None:
    replies = messages(send_sms(lu.test_client(), body, from_=STAFF))
    assert replies == [(None, answer)]


def closed_fr(code: str) -> str:
    return f"Le dossier #{code} est clos ou expiré : votre réponse n'a pas été envoyée."


def test_a_closed_case_refuses_replies_and_tells_the_helpline(lu: Flask) -> None:
    client = lu.test_client()
    code = case_code(messages(send_sms(client, "I need to talk to someone"))[0][1])
    assert lu.extensions["sms_store"].close_case(code)
    replies = messages(send_sms(client, f"#{code} Are you safe?", from_=STAFF))
    assert replies == [(None, closed_fr(code))]
    # Writing again opens a new case: the person is never stuck with a closed one.
    new = case_code(messages(send_sms(client, "Still here"))[0][1])
    assert new != code


def test_an_expired_case_refuses_replies(make_app: Callable[..., Flask], clock: Clock) -> None:
    app = sms_app(make_app)
    client = app.test_client()
    code = case_code(messages(send_sms(client, "Please call me back later"))[0][1])
    days = app.extensions["sms"].profile.sms.case_expiry_days
    clock.now = clock.now + timedelta(days=days, minutes=1)
    [(to, text)] = messages(send_sms(client, f"#{code} hello", from_=STAFF))
    assert to is None and f"#{code}" in text
    assert text == closed_fr(code)


def test_a_staff_reply_keeps_the_case_open_for_another_expiry_period(
        make_app: Callable[..., Flask], clock: Clock) -> None:
    app = sms_app(make_app)
    client = app.test_client()
    code = case_code(messages(send_sms(client, "Please write to me in a few days"))[0][1])
    start = clock.now
    days = timedelta(days=app.extensions["sms"].profile.sms.case_expiry_days)  # 14
    clock.now = start + timedelta(days=10)
    assert messages(send_sms(client, f"#{code} Are you safe?", from_=STAFF)) == [
        (PERSON, "Are you safe?")]
    # 20 days after the person wrote, 10 after the helpline did: still open.
    clock.now = start + timedelta(days=20)
    assert messages(send_sms(client, f"#{code} Still here?", from_=STAFF)) == [
        (PERSON, "Still here?")]
    # Open to the very end of the expiry period after a reply, closed just after it.
    last_reply = start + timedelta(days=20) + days
    clock.now = last_reply
    assert messages(send_sms(client, f"#{code} Last try", from_=STAFF)) == [
        (PERSON, "Last try")]
    clock.now = last_reply + days + timedelta(microseconds=1)
    assert messages(send_sms(client, f"#{code} hello", from_=STAFF)) == [
        (None, closed_fr(code))]


@pytest.mark.parametrize("stop_word", ["STOP", "stop", "Arrêt", "СТОП", "NDALO"])
def test_opt_out_is_honoured_told_to_the_helpline_and_undone_by_start(
        lu: Flask, stop_word: str) -> None:
    client = lu.test_client()
    code = case_code(messages(send_sms(client, "Someone takes my wages"))[0][1])
    stopped = messages(send_sms(client, stop_word))
    told = [(to, text) for to, text in stopped if to]
    assert [to for to, _ in told] == [STAFF, STAFF_2] and f"#{code}" in told[0][1]
    answers = [text for to, text in stopped if to is None]
    # Twilio answers its own STOP itself; our words get our confirmation.
    assert answers == ([] if stop_word.upper() == "STOP" else [answers[0]])
    refused = messages(send_sms(client, f"#{code} hello?", from_=STAFF))
    assert refused == [
        (None, f"Le dossier #{code} s'est désinscrit (STOP) : rien ne peut lui être envoyé.")]
    # Writing while opted out still reaches the helpline, but nothing comes back.
    while_out = messages(send_sms(client, "one more thing"))
    assert [to for to, _ in while_out] == [STAFF, STAFF_2]
    send_sms(client, "START")
    assert messages(send_sms(client, f"#{code} hello again", from_=STAFF)) == [
        (PERSON, "hello again")]


def sms_events(app: Flask) -> list[tuple[str, str | None]]:
    """(kind, outcome) of every event the app recorded, in order."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from ivr.storage.db import Event, make_engine

    app.extensions["events"].flush()
    engine = make_engine(app.config["DATABASE_URL"])
    with Session(engine) as session:
        events = [(e.kind, e.outcome) for e in session.scalars(select(Event))]
    engine.dispose()
    return events


def test_the_same_message_sid_twice_relays_once(lu: Flask) -> None:
    client = lu.test_client()
    response = send_sms(client, "Where can I sleep tonight?", sid="SMduplicate")
    first = messages(response)  # send_sms closed it, as a server does: the sid is handled
    second = messages(send_sms(client, "Where can I sleep tonight?", sid="SMduplicate"))
    assert [to for to, _ in first] == [STAFF, STAFF_2, None]
    assert second == []
    # A duplicate of a handled message, not one still in flight (that waits for the first).
    assert sms_events(lu) == [("relay", "relayed"), ("duplicate", None)]


def test_a_duplicate_while_another_worker_holds_the_message_is_answered_empty(
        lu: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("ivr.sms.channel.BUSY_WAIT_S", 0.0)  # give up waiting at once
    assert lu.extensions["sms_store"].claim_delivery("SMheld", lu.extensions["sms"].now()
                                                     ) == "claimed"
    with caplog.at_level("WARNING"):
        assert messages(send_sms(lu.test_client(), "Are you there?", sid="SMheld")) == []
    assert ("SMS SMheld: a duplicate while the first delivery is still being handled; "
            "answered empty") in caplog.text
    assert sms_events(lu) == [("duplicate", "in_flight")]


def test_a_forged_or_unsigned_message_is_refused(lu: Flask) -> None:
    client = lu.test_client()
    data = {"MessageSid": "SMforged", "From": PERSON, "To": "+352200000001",
            "Body": "hello"}
    assert client.post("/sms", data=data).status_code == 403
    bad = {"X-Twilio-Signature": sign("/sms", data, token="not-the-token")}
    assert client.post("/sms", data=data, headers=bad).status_code == 403
    tampered = {"X-Twilio-Signature": sign("/sms", {**data, "Body": "other"})}
    assert client.post("/sms", data=data, headers=tampered).status_code == 403


def test_kosovo_without_a_helpline_phone_still_gives_the_numbers(
        make_app: Callable[..., Flask]) -> None:
    app = sms_app(make_app, "kosovo")
    [(to, text)] = messages(send_sms(app.test_client(), "Më duhet ndihmë, ju lutem"))
    assert to is None and "192" in text and "+383 800 11112" in text


def test_the_discreet_setting_chooses_the_wording(tmp_path: object,
                                                  make_app: Callable[..., Flask]) -> None:
    from pathlib import Path

    source = PROFILES["luxembourg"].read_text(encoding="utf-8")
    plain = Path(str(tmp_path)) / "plain.toml"
    plain.write_text(source.replace("discreet = true", "discreet = false"), encoding="utf-8")
    discreet_reply = messages(send_sms(sms_app(make_app).test_client(), "SIGNS"))[0][1]
    plain_reply = messages(send_sms(sms_app(make_app, str(plain)).test_client(), "SIGNS"))[0][1]
    assert "trafficking" not in discreet_reply.lower()
    assert plain_reply != discreet_reply


def test_unclear_text_takes_the_language_of_the_numbers_country(lu: Flask) -> None:
    replies = messages(send_sms(lu.test_client(), "ок дякую", from_="+380671112233"))
    assert replies[0][1].startswith("#") and "[uk]" in replies[0][1]


def test_sms_events_are_anonymous(lu: Flask) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from ivr.storage.db import Event, make_engine

    client = lu.test_client()
    send_sms(client, "HILFE")
    code = case_code(messages(send_sms(client, "Ich werde bedroht und habe Angst"))[0][1])
    send_sms(client, f"#{code} Wir rufen Sie an", from_=STAFF)
    lu.extensions["events"].flush()
    engine = make_engine(lu.config["DATABASE_URL"])
    with Session(engine) as session:
        events = list(session.scalars(select(Event).where(Event.channel == "sms")))
    engine.dispose()
    assert [(e.kind, e.language, e.outcome) for e in events] == [
        ("keyword", "de", None), ("relay", "de", "relayed"), ("staff_reply", "de", "relayed")]
    assert events[1].conversation == events[2].conversation != code
    assert events[0].node == "help"


@pytest.mark.parametrize(("body", "opt_out_type"), [("HELP", "HELP"), ("INFO", "HELP"),
                                                    ("ARRÊT", "STOP"), ("STOP", "STOP")])
def test_a_keyword_twilio_has_answered_gets_no_second_reply(lu: Flask, body: str,
                                                            opt_out_type: str) -> None:
    client = lu.test_client()
    code = case_code(messages(send_sms(client, "They took my phone yesterday"))[0][1])
    replies = messages(send_sms(client, body, OptOutType=opt_out_type))
    assert [to for to, _ in replies if to is None] == []
    refused = messages(send_sms(client, f"#{code} hello", from_=STAFF))
    if opt_out_type == "STOP":
        assert [to for to, _ in replies] == [STAFF, STAFF_2]  # the helpline is told
        assert refused[0][0] is None
    else:
        assert refused == [(PERSON, "hello")]


def test_ivr_sms_reply_prints_a_reply_and_its_size(lu: Flask) -> None:
    result = lu.test_cli_runner().invoke(args=["sms", "reply", "help", "en"])
    assert result.exit_code == 0, result.output
    assert "+352 27 36 56 46" in result.output and "GSM-7" in result.output
    bad = lu.test_cli_runner().invoke(args=["sms", "reply", "help", "xx"])
    assert bad.exit_code != 0 and "is not one of" in bad.output


def test_yes_from_someone_who_never_opted_out_reaches_the_helpline(lu: Flask) -> None:
    client = lu.test_client()
    code = case_code(messages(send_sms(client, "Can you call me tomorrow morning"))[0][1])
    send_sms(client, f"#{code} Is it safe to call you at 9?", from_=STAFF)
    replies = messages(send_sms(client, "Yes"))
    assert replies[0] == (STAFF, f"#{code} [en] Yes")


def test_ivr_sms_try_walks_a_conversation(lu: Flask) -> None:
    runner = lu.test_cli_runner()
    first = runner.invoke(args=["sms", "try", "I am not allowed to leave the house"])
    assert first.exit_code == 0, first.output
    assert "-> helpline phone +352621351884: #" in first.output
    assert "-> the person: " in first.output
    code = first.output.split("#", 1)[1].split()[0]  # the case code, whatever its length
    reply = runner.invoke(args=["sms", "try", "--staff", f"#{code} We hear you"])
    assert reply.exit_code == 0, reply.output
    assert "-> the person: We hear you" in reply.output
