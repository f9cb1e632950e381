"""The voice channel: the call flow, ringing and hours, Twilio's voice webhooks, prompt audio.

Layer: a channel. It may import content, storage and `ivr.security`; never the SMS channel,
the console or the CLI.
"""
