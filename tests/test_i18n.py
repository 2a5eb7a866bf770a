"""locale/zh_Hans is complete, compiled, and covers every string in the code."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]
LC_MESSAGES = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
CATALOGUES = [PO, LC_MESSAGES / "djangojs.po"]


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.name)
def test_catalogue_is_complete_and_not_fuzzy(po):
    catalogue = polib.pofile(str(po))
    assert not catalogue.untranslated_entries()
    assert not catalogue.fuzzy_entries()


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.name)
def test_compiled_catalogue_matches_the_source(po):
    source = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0) for e in polib.pofile(str(po))
              if not e.obsolete}
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0)
                for e in polib.mofile(str(po.with_suffix(".mo")))}
    assert compiled == source, "run `make messages` to recompile locale/zh_Hans"


def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    """makemessages on a copy of the tree finds no string the catalogue lacks."""
    copy = tmp_path / "tree"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "var", ".git", "tests", "staticfiles",
                                                               "__pycache__", "node_modules"))
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
                   cwd=copy, check=True, capture_output=True)
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale/zh_Hans/LC_MESSAGES/django.po"))}
    known = {e.msgid for e in polib.pofile(str(PO))}
    assert fresh - known == set(), "new strings: run `make messages` and translate them"
