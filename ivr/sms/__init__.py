"""The SMS channel: keywords, the relay between senders and the helpline, outbound messages.

Layer: a channel. It may import content, storage and `ivr.security`; never the voice channel,
the console or the CLI.
"""
