"""Ringing a step's phones together: the TwiML side (ivr/voice/together.py does the rest).

The caller waits in a queue of their own; each phone, called through the REST API, hears
the whisper, and 1 takes the caller with `<Dial><Queue>`. The wait document ends the hold
with `<Leave/>` (no REST request needed), and the Enqueue action says what comes next:
the phones that never rang, one after another, then the next step.
"""

from __future__ import annotations

from dataclasses import replace

from twilio.twiml.voice_response import VoiceResponse

from ivr.voice.ringing import ACCEPT_KEY, After, Answer, Caller, Ringing
from ivr.voice.state import CallState, as_count
from ivr.voice.together import CREATE_WAIT_S, RingPlan

# After the phones stop ringing, time for a person who picked up at the last second to hear
# the whisper (about 5 s) and press 1: the caller leaves the queue ring_seconds + this after
# entering it, and no later than ring_seconds + 20 s (issue #21's bound).
WHISPER_SECONDS = 15
HOLD_PAUSE_SECONDS = 5  # silence between two hold messages: never more
HOLD_SAY_SECONDS = 3  # about how long "still trying" takes to say
# A person who pressed 1 waits this long in `<Dial><Queue>` for a caller who has already
# left (Twilio's shortest Dial timeout); a caller still waiting is taken at once.
QUEUE_DIAL_TIMEOUT = 5
# QueueResult values for a caller who never waited (the phones may ring for nobody).
NEVER_QUEUED = frozenset({"queue-full", "error", "system-error"})
LEGS_AT_MOST = 10  # phones of one step (Twilio's limit for one <Dial>, and the state's)


class QueueRinging(Ringing):
    """The webhooks of a ring together, for the caller (wait, left) and for each phone (leg,
    accept, taken, status)."""

    @property
    def hold_seconds(self) -> int:
        """How long a caller waits in a ring together's queue at most."""
        return self.profile.ring_seconds + WHISPER_SECONDS

    def _ring_together(self, ringing: CallState, phones: tuple[str, ...], caller: Caller
                       ) -> Answer | None:
        """The caller into a queue of their own, each phone called through the REST API;
        None when no phone could be called (then they ring one after another).

        The helpline's phones see the hotline's number (the REST calls come from it), so
        `show_caller_number` cannot apply here.
        """
        assert self.together is not None
        ring = f"ring-{caller.call_sid}-{ringing.step}"  # a CallSid: no personal data
        until = int(self.clock().timestamp() + CREATE_WAIT_S + self.hold_seconds)
        held = ringing.but(ring=ring, until=until)
        legs = [CallState(lang=ringing.lang, ring=ring, leg=i + 1) for i in range(len(phones))]
        plan = RingPlan(ring=ring, phones=phones, hotline_number=caller.to_number,
                        leg_urls=tuple(self.link("ring/leg", leg) for leg in legs),
                        status_urls=tuple(self.link("ring/status", leg) for leg in legs),
                        ring_seconds=self.profile.ring_seconds)
        outcomes = self.together.start(plan)
        if outcomes is None or all(outcome == "refused" for outcome in outcomes):
            return None
        response = VoiceResponse()
        response.enqueue(ring, action=self.link("ring/left", held), method="POST",
                         wait_url=self.link("ring/wait", held), wait_url_method="POST")
        return Answer(str(response))

    def ring_wait(self, state: CallState, queue_time: str | None) -> Answer:
        """The held caller's wait document: "connecting", then "still trying" every few
        seconds in their language; `<Leave/>` once nobody can take the call any more, or
        when the time is up (Twilio's QueueTime, or the clock, whichever comes first).

        Only Say, Play, Pause, Redirect and Leave are allowed here (Twilio error 13238).
        """
        waited = as_count(queue_time, 100_000)
        remaining = self.hold_seconds - waited
        now = self.clock().timestamp()
        late = remaining <= 0 or (state.until > 0 and now >= state.until)
        record = self.together.read(state.ring) if self.together and state.ring else None
        response = VoiceResponse()
        if late or (record is not None and record.nobody_left(now)):
            response.leave()
            return Answer(str(response))
        lang = self.language(state.lang) or state.suggested or self.profile.greeting_language
        first = waited < 1
        if first or remaining > HOLD_PAUSE_SECONDS:
            if first and state.step == 0:
                destination = self.profile.destinations.get(state.destination or "")
                label = destination.label if destination else self.profile.name
                self.prompter.speak(response, lang, "connect.hold", destination=label)
            else:
                self.prompter.speak(response, lang, "connect.next")
            pause = min(HOLD_PAUSE_SECONDS, max(1, remaining - HOLD_SAY_SECONDS))
        else:
            pause = remaining
        response.pause(length=pause)
        response.redirect(self.link("ring/wait", state), method="POST")
        return Answer(str(response))

    def ring_left(self, state: CallState, result: str | None, queue_sid: str | None,
                  caller: Caller) -> Answer:
        """The caller left the queue: after a conversation, by hanging up, or because
        nobody took the call. Phones still ringing are stopped; phones that never rang ring
        one after another, then the next step."""
        result = (result or "").strip().lower()
        record = None
        after = None
        if self.together is not None and state.ring:
            together = self.together
            together.end(state.ring, result or "left")
            record = together.read(state.ring)
            calls = record.live() if record else []

            def stop() -> None:
                together.stop(calls)
                together.forget_queue((queue_sid or "")[:64])

            after = stop
        if result in ("bridged", "hangup"):
            response = VoiceResponse()
            response.hangup()
            return Answer(str(response), after=after)
        everyone = tuple(range(LEGS_AT_MOST))
        if record is None or result in NEVER_QUEUED:
            unrung = everyone  # unknown who rang: each phone once more, one after another
        else:
            unrung = record.unrung(self.clock().timestamp())
        going_on = replace(state, ring=None, until=0)
        answer = self.connect(going_on, state.destination or "", caller, step=state.step,
                              solo=unrung) if unrung else \
            self.connect(going_on, state.destination or "", caller, step=state.step + 1)
        return replace(answer, after=after)  # connect() itself never leaves work for after

    def ring_leg(self, state: CallState, call_sid: str) -> Answer:
        """A phone called for a ring together picked up: the whisper, unless the caller is
        no longer waiting for it."""
        record = self.together.read(state.ring) if self.together and state.ring else None
        if record is not None and (record.ended or record.taken_by_another(call_sid)):
            return self.gone()
        return self.whisper(state, action="ring/accept")

    def ring_accept(self, state: CallState, digits: str | None, call_sid: str) -> Answer:
        """1 takes the caller from the queue (if still there, and nobody was first); the other
        phones stop ringing. Anything else declines, as a voicemail would."""
        if (digits or "").strip() != ACCEPT_KEY or not state.ring:
            response = VoiceResponse()
            response.hangup()
            return Answer(str(response), event="declined")
        together = self.together
        record = together.read(state.ring) if together else None
        if record is not None and record.ended:
            return replace(self.gone(), event="too late")
        if together is not None and not together.accept(state.ring, call_sid):
            return replace(self.gone(), event="too late")
        response = VoiceResponse()
        dial = response.dial(action=self.link("ring/taken", CallState(lang=state.lang)),
                             method="POST", timeout=QUEUE_DIAL_TIMEOUT)
        dial.queue(state.ring)
        after = None
        if together is not None and record is not None:
            others = record.live(but=call_sid)

            def stop_others() -> None:
                together.stop(others)

            after = stop_others
        return Answer(str(response), event="accepted", after=after)

    def ring_taken(self, status: str | None, duration: str | None) -> Answer:
        """The accepting person's `<Dial><Queue>` ended: after a conversation, or without
        one (the caller had left, or another person took them)."""
        if (status or "") == "completed" and as_count(duration, 100_000) > 0:
            response = VoiceResponse()
            response.hangup()
            return Answer(str(response))
        return self.gone()

    def ring_status(self, state: CallState, call_sid: str, status: str | None
                    ) -> After | None:
        """A status callback of a phone's call: noted; a call that still rings for a caller
        who has left, or been taken, is stopped (work for after the answer)."""
        together = self.together
        status = (status or "").strip().lower()[:32]
        if together is None or not state.ring or not state.leg or not call_sid:
            return None
        record = together.read(state.ring)
        if record is None:
            return None  # unknown or long finished: nothing to do
        together.seen(state.ring, state.leg - 1, call_sid, status)
        over = record.ended or record.taken_by_another(call_sid)
        if over and status in ("queued", "initiated", "ringing"):
            return lambda: together.stop([(call_sid, status)])
        return None

    def gone(self) -> Answer:
        """What a person hears who picked up or accepted too late, in the staff language."""
        response = VoiceResponse()
        self.prompter.speak(response, self.profile.staff_language, "whisper.gone")
        response.hangup()
        return Answer(str(response))
