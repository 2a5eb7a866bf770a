"""Simplified Chinese: the shared year-first formats (crm/formats/__init__.py)."""

from crm.formats.shared import *  # noqa: F403
