"""``python -m collectrules``: the command line."""

from collectrules.cli import _entry

_entry()
