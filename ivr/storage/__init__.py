"""What the hotline keeps: the database, its background writer, events, encrypted numbers.

Layer: the bottom. It imports neither content nor any channel, console or CLI.
"""
