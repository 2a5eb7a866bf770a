"""The complaint clock: deadlines counted in working hours on the Chinese calendar.

A working day is what `chinese_calendar` says (public holidays off, make-up working days 调休 on), unless the
tenant's calendar exceptions (`WorkCalendarDay`) say otherwise; for years the library does not know yet, Monday
to Friday. Working time runs between the tenant's office hours on working days, in the tenant's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from service.models import WorkCalendarDay
from service.rules import service_settings

MAX_DAYS = 3 * 366  # a deadline further away than this is a setting gone wrong: it is capped here


def library_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the library has no data for yet
        return day.weekday() < 5


@dataclass
class WorkCalendar:
    """A tenant's working time: office hours, time zone and calendar exceptions (day → works)."""

    opens: time
    closes: time
    timezone: str = "Asia/Shanghai"
    exceptions: dict[date, bool] = field(default_factory=dict)

    def __post_init__(self):
        if self.closes <= self.opens:
            raise ValueError("office hours must close after they open")
        self.zone = ZoneInfo(self.timezone)

    def is_workday(self, day: date) -> bool:
        found = self.exceptions.get(day)
        return library_workday(day) if found is None else found

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if not self.is_workday(day):
            return None
        return (datetime.combine(day, self.opens, self.zone), datetime.combine(day, self.closes, self.zone))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start` (a start outside the office hours counts from
        when they next begin; a zero duration gives that moment). At most MAX_DAYS away: short office hours
        and a calendar of days off cannot push a deadline out of reach (or make registering fail)."""
        remaining = duration
        moment = start.astimezone(self.zone)
        day = moment.date()
        for _ in range(MAX_DAYS):
            window = self._window(day)
            if window is not None:
                begin, end = max(window[0], moment), window[1]
                if begin < end or (begin == end and remaining <= timedelta(0)):
                    if begin + remaining <= end:
                        return begin + remaining
                    remaining -= end - begin
            day += timedelta(days=1)
        return start + timedelta(days=MAX_DAYS)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The working time from `start` to `end` (zero when `end` is not after `start`)."""
        if end <= start:
            return timedelta(0)
        start, end = start.astimezone(self.zone), end.astimezone(self.zone)
        total = timedelta(0)
        day = start.date()
        while day <= end.date():
            window = self._window(day)
            if window is not None:
                begin, finish = max(window[0], start), min(window[1], end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total


def calendar_for(tenant) -> WorkCalendar:
    """The tenant's working calendar: its office hours (hours and teams) and calendar exceptions."""
    rules = service_settings(tenant)
    exceptions = dict(WorkCalendarDay.objects.filter(tenant=tenant).values_list("day", "is_workday"))
    return WorkCalendar(opens=rules.office_opens, closes=rules.office_closes, timezone=tenant.timezone,
                        exceptions=exceptions)
