"""Dates in one format per language, from the format modules (crm/formats): pages, reports and inputs show
2026-03-05 and 2026-03-05 14:30 in English and in Chinese, and no template spells out a format of its own."""

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import formats, translation

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_language_has_one_date_and_one_datetime_format(language):
    day, moment = date(2026, 3, 5), datetime(2026, 3, 5, 14, 30)
    with translation.override(language):
        shown = Template('{{ day }}|{{ day|date }}|{{ moment|date:"DATETIME_FORMAT" }}|{{ moment|time }}|'
                         '{{ moment|date:"SHORT_DATETIME_FORMAT" }}').render(Context({"day": day, "moment": moment}))
        assert shown == "2026-03-05|2026-03-05|2026-03-05 14:30|14:30|2026-03-05 14:30"
        # a form shows a date as the first input format: what <input type="date"> needs, and what pages show
        assert datetime(2026, 3, 5).strftime(formats.get_format("DATE_INPUT_FORMATS")[0]) == "2026-03-05"
        assert formats.get_format("DATETIME_INPUT_FORMATS")[0] == "%Y-%m-%d %H:%M"


def test_a_date_typed_the_chinese_way_is_read():
    from django import forms

    with translation.override("zh-hans"):
        for typed in ("2026-03-05", "2026/03/05", "2026年03月05日"):
            assert forms.DateField().clean(typed) == date(2026, 3, 5), typed


def test_the_report_period_keeps_its_dates_on_a_chinese_page(client_as, user):
    """Django's Chinese input format (2026/03/01) left <input type="date"> empty after filtering."""
    director = user("demo.director")
    director.language = "zh-hans"
    director.save(update_fields=["language"])
    page = client_as("demo.director").get(reverse("analytics:followups"),
                                          {"date_from": "2026-03-01", "date_to": "2026-03-31"}).content.decode()
    assert '<html lang="zh-hans">' in page
    for name, value in (("date_from", "2026-03-01"), ("date_to", "2026-03-31")):
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert 'type="date"' in field and f'value="{value}"' in field, field


def test_no_template_spells_out_a_date_format():
    spelled = re.compile(r"""\|(?:date|time):["'](?![A-Z_]+["'])(?!Y["'])(?!l["'])[^"']*["']""")
    found = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in sorted((ROOT / "templates").rglob("*"))
             if path.is_file() for match in spelled.finditer(path.read_text())]
    assert not found, "name a format (DATE_FORMAT, DATETIME_FORMAT, TIME_FORMAT) instead:\n" + "\n".join(found)
