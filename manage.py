#!/usr/bin/env python
import os
import secrets
import sys
from pathlib import Path


def development_defaults() -> None:
    """On a developer's machine `python manage.py …` talks to the `make run` servers under var/.
    Nothing is filled in when DEBUG=0 (production, the test suite): there, missing settings fail."""
    if os.environ.get("DEBUG", "1") != "1":
        return
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DATABASE_URL", "postgres://crm@127.0.0.1:55432/crm")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:56379/0")
    key = Path(__file__).resolve().parent / "var" / "secret_key"
    os.environ.setdefault("SECRET_KEY", key.read_text().strip() if key.exists() else secrets.token_urlsafe(50))


if __name__ == "__main__":
    development_defaults()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
