"""The `ivr` command, one module per command family; the app factory registers them on app.cli.

Layer: the top, beside the app factory. It may import the console, the channels, content and
storage; only `ivr.cli.main` (the `ivr` group itself) imports the app factory.
"""

from __future__ import annotations

import click

from ivr.cli.content import content
from ivr.cli.db import db_group, purge, recordings_group, sms_group
from ivr.cli.i18n import i18n
from ivr.cli.operators import apply_reviews_command, operators
from ivr.cli.prompts import prompts_group

i18n.add_command(apply_reviews_command)
FAMILIES: tuple[click.Command, ...] = (db_group, purge, recordings_group, sms_group,
                                       prompts_group, i18n, operators, content)


def register_on(group: click.Group) -> None:
    """Offer every command family on `flask --app ivr` (the app's group) as well as on `ivr`."""
    for command in FAMILIES:
        group.add_command(command)
