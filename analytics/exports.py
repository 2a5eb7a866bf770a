"""The reports' exports: the follow-up report's per-specialist and per-plan tables, the survey results' tables
and the complaint report's, with the filters of the page, as Excel workbooks (one sheet per table). Each is a
crm.spreadsheets.ListExport: it declares its tables and their rows, and crm.spreadsheets writes the workbook
(text a spreadsheet would run as a formula, a name starting with "=", as a text cell)."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from analytics.selectors.followups import Figures
from analytics.selectors.surveys import Line
from crm.spreadsheets import CONTENT_TYPES, XLSX, Formatted, ListExport, Table

CONTENT_TYPE = CONTENT_TYPES[XLSX]
PERCENT = "0.0%"


class ReportExport(ListExport):
    """A report page's tables with its filters, as an Excel workbook named after the report and its period."""

    file_stem = ""  # the translated start of the file name, set per report

    def __init__(self, report, *, tenant_name: str):
        self.report, self.tenant_name = report, tenant_name

    def download_name(self) -> str:
        return f"{_(self.file_stem)}-{self.report.start:%Y%m%d}-{self.report.end:%Y%m%d}.xlsx"

    def response(self) -> HttpResponse:
        response = HttpResponse(self.content(XLSX), content_type=CONTENT_TYPE)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(self.download_name())}"
        return response


def _period(report) -> str:
    return _("Period: %(start)s to %(end)s") % {"start": report.start, "end": report.end}


def _rate(value: float | None):
    return None if value is None else Formatted(round(value, 4), PERCENT)


def _one_decimal(value: float | None):
    return None if value is None else Formatted(round(value, 1), "0.0")


# --- the follow-up report ------------------------------------------------------------------------------


def _line(figures: Figures) -> list:
    return [figures.label, figures.due, figures.done, _rate(figures.completion_rate), figures.on_time,
            _rate(figures.on_time_rate), figures.calls, figures.reached, _rate(figures.contact_rate)]


class FollowupReportExport(ReportExport):
    file_stem = gettext_noop("follow-up-report")

    def tables(self):
        report = self.report
        columns = [_("Due"), _("Completed"), _("Completion rate"), _("Completed on time"), _("On-time rate"),
                   _("Calls"), _("Reached"), _("Contact rate")]
        above = [[self.tenant_name, _period(report)]]
        for title, first, lines in ((_("By specialist"), _("Specialist"), report.by_staff),
                                    (_("By plan"), _("Plan"), report.by_plan)):
            rows = [_line(figures) for figures in lines]
            if report.total is not None:
                rows.append(_line(report.total))
            yield Table(title=title, header=[first, *columns], rows=rows, above=above, widths=[24])


# --- the survey results --------------------------------------------------------------------------------


def _survey_line(line: Line) -> list:
    ours, theirs = line.ours, line.theirs
    return [line.label, ours.invited, ours.answered, _rate(ours.response_rate), _one_decimal(ours.csi),
            _rate(ours.csat), _one_decimal(ours.nps), ours.promoters, ours.passives, ours.detractors,
            theirs.answered, _one_decimal(theirs.csi), _rate(theirs.csat), _one_decimal(theirs.nps)]


class SurveyResultsExport(ReportExport):
    """A sheet per table of the survey results (ours, then the manufacturer's figures on the same line), and
    one with the answers per question."""

    file_stem = gettext_noop("survey-results")

    def tables(self):
        report = self.report
        columns = [_("Invited"), _("Responses"), _("Response rate"), _("CSI"), _("CSAT"), _("NPS"),
                   _("Promoters"), _("Passives"), _("Detractors"), _("Manufacturer: responses"),
                   _("Manufacturer: CSI"), _("Manufacturer: CSAT"), _("Manufacturer: NPS")]
        above = [[self.tenant_name, _period(report)]]
        tables = report.tables
        for title, first, lines in ((_("By month"), _("Month"), tables.by_month),
                                    (_("By survey"), _("Survey"), tables.by_survey),
                                    (_("By department"), _("Department"), tables.by_department),
                                    (_("By consultant or advisor"), _("Consultant or advisor"), tables.by_staff)):
            yield Table(title=title, header=[first, *columns], above=above, widths=[24],
                        rows=[*(_survey_line(line) for line in lines), _survey_line(tables.total)])
        yield Table(title=_("By question"), header=[_("Question"), _("Answer"), _("Count"), _("Share"), _("Mean")],
                    above=above, widths=[40], rows=self.question_rows())

    def question_rows(self):
        for result in self.report.questions:
            mean = None if result.mean is None else round(result.mean, 2)
            yield [result.question.text, None, result.total, None, mean]
            for choice in result.choices:
                yield [None, str(choice.label), choice.count, _rate(choice.share)]


# --- the complaint report ------------------------------------------------------------------------------


class ComplaintReportExport(ReportExport):
    """A sheet with the figures of the complaint report, then one per table (category, owner, channel, month)."""

    file_stem = gettext_noop("complaint-report")

    def tables(self):
        report, totals = self.report, self.report.totals
        above = [[self.tenant_name, _period(report)]]
        yield Table(title=_("Figures"), header=[_("Figure"), _("Value")], above=above, widths=[36], rows=[
            [_("Complaints opened"), totals.opened], [_("Closed"), totals.closed],
            [_("Unresolved"), totals.unresolved], [_("Resolved, waiting for confirmation"), totals.resolved],
            [_("Resolution time, median (hours)"), _one_decimal(totals.median_hours)],
            [_("Resolution time, 90th percentile (hours)"), _one_decimal(totals.p90_hours)],
            [_("Past a deadline"), totals.breached], [_("SLA breach rate"), _rate(totals.breach_rate)],
            [_("Reopened"), totals.reopened], [_("Reopen rate"), _rate(totals.reopen_rate)],
            [_("Escalated"), totals.escalated], [_("Major"), totals.major]])
        tables = (
            (_("By category"), _("Category"), report.by_category,
             [_("Complaints"), _("Share"), _("Past a deadline"), _("SLA breach rate"), _("Median hours to close")],
             lambda line: [line.count, _rate(line.share), line.breached, _rate(line.breach_rate),
                           _one_decimal(line.median_hours)]),
            (_("By owner"), _("Owner"), report.by_owner,
             [_("Complaints"), _("Unresolved"), _("Past a deadline"), _("Median hours to close")],
             lambda line: [line.count, line.unresolved, line.breached, _one_decimal(line.median_hours)]),
            (_("By channel"), _("Channel"), report.by_channel,
             [_("Complaints"), _("Share"), _("Past a deadline"), _("SLA breach rate"), _("Median hours to close")],
             lambda line: [line.count, _rate(line.share), line.breached, _rate(line.breach_rate),
                           _one_decimal(line.median_hours)]),
            (_("By month"), _("Month"), report.by_month,
             [_("Complaints"), _("Closed"), _("Past a deadline"), _("SLA breach rate")],
             lambda line: [line.count, line.closed, line.breached, _rate(line.breach_rate)]),
        )
        for title, first, lines, columns, values in tables:
            yield Table(title=title, header=[first, *columns], above=above, widths=[24],
                        rows=[[line.label, *values(line)] for line in lines])




# --- the club operations report ------------------------------------------------------------------------


class ClubReportExport(ReportExport):
    """A sheet with the figures of the club operations report, then one per table (members by level per month,
    top rewards, activities, member services)."""

    file_stem = gettext_noop("club-report")

    def tables(self):
        report, points = self.report, self.report.points
        above = [[self.tenant_name, _period(report)]]
        yield Table(title=_("Figures"), header=[_("Figure"), _("Value")], above=above, widths=[36], rows=[
            [_("Members at the end of the period"), report.members_at_end], [_("Enrolments"), report.enrolled],
            [_("Memberships cancelled"), report.cancelled], [_("Active members"), report.active],
            [_("Active share"), _rate(report.active_rate)],
            [_("Points issued"), points.issued], [_("Points earned"), points.earned],
            [_("Manual credits"), points.credited], [_("Manual debits"), points.debited],
            [_("Points redeemed"), points.redeemed], [_("Points returned (rewards cancelled)"), points.returned],
            [_("Points expired"), points.expired], [_("Points reversed"), points.reversed],
            [_("Points outstanding"), points.outstanding], [_("Debts (negative balances)"), points.debt],
            [_("Value of a point (¥)"), Formatted(float(points.point_value), "0.0000")],
            [_("Liability (¥)"), Formatted(float(points.liability), "#,##0.00")],
            [_("Activities held"), report.activities_held], [_("Registered"), report.registered],
            [_("Attended"), report.attended], [_("Attendance rate"), _rate(report.attendance_rate)],
            [_("Referrals"), report.referrals], [_("Leads won"), report.referrals_won],
            [_("Referral conversion"), _rate(report.referral_conversion)],
            [_("Referral points awarded"), report.referral_points]])
        months = [f"{month:%Y-%m}" for month in report.months]
        yield Table(title=_("Members by level"), header=[_("Level"), *months], above=above, widths=[16],
                    rows=[*([line.label, *line.counts] for line in report.by_level),
                          [_("Total"), *report.members_total]])
        yield Table(title=_("Top rewards"), header=[_("Reward"), _("Redemptions"), _("Quantity"), _("Points")],
                    above=above, widths=[30], rows=[[line.label, line.redemptions, line.quantity, line.points]
                                                    for line in report.top_rewards])
        yield Table(title=_("Activities"), header=[_("Activity"), _("Starts"), _("Status"), _("Capacity"),
                                                  _("Registered"), _("Waiting list"), _("Attended"),
                                                  _("Attendance rate")],
                    above=above, widths=[30, 18],
                    rows=[[line.label, f"{line.starts_at.astimezone(report.zone):%Y-%m-%d %H:%M}", line.status,
                           line.capacity, line.registered, line.waitlisted, line.attended,
                           _rate(line.attendance_rate)] for line in report.activities])
        yield Table(title=_("Member services"), header=[_("Service"), _("Used in the period"), _("Done"),
                                                       _("Yearly quota of the members"), _("Share of the quota")],
                    above=above, widths=[30], rows=[[line.label, line.requested, line.done, line.entitlement,
                                                     _rate(line.use_rate)] for line in report.services])


# --- the team's scorecards (绩效考核) ------------------------------------------------------------------------


def _figure(value, unit: str):
    if value is None:
        return None
    return Formatted(round(float(value), 1), "0.0") if unit != "count" else round(float(value), 1)


class ScorecardExport(ReportExport):
    """One row per person and metric with a target: the target, the pro-rata value expected to date, the actual,
    the share of the target and the status, for the review meeting."""

    file_stem = gettext_noop("scorecards")

    def tables(self):
        board = self.report
        above = [[self.tenant_name, _period(board)],
                 [_("Working days: %(elapsed)s of %(total)s elapsed") % {"elapsed": board.elapsed,
                                                                          "total": board.total}]]
        rows = []
        for rank, card in enumerate(board.cards, start=1):
            for line in card.targeted:
                unit = line.metric.unit
                rows.append([rank, card.label, " / ".join(card.positions), str(line.metric.label),
                             _figure(line.target_value, unit), _figure(line.expected, unit),
                             _figure(line.actual, unit), _rate(line.share), line.status_label])
        yield Table(title=_("Scorecards"), header=[
            _("Rank"), _("Person"), _("Positions"), _("Metric"), _("Target"), _("Expected to date"), _("Actual"),
            _("Share of target"), _("Status")], rows=rows, above=above, widths=[8, 20, 24, 24])


# --- the dashboard (the scheduled e-mails' attachment) ---------------------------------------------------


class DashboardExport(ReportExport):
    """The tiles of a user's dashboard for a period (value, previous period, change), and the team or the
    departments compared, as the recipient's dashboard shows them."""

    file_stem = gettext_noop("dashboard")

    def __init__(self, board, *, tenant_name: str):
        super().__init__(board, tenant_name=tenant_name)
        self.report.start, self.report.end = board.period.start, board.period.end

    def tables(self):
        from analytics.templatetags.analytics import tile_change, tile_value

        board = self.report
        above = [[self.tenant_name, _period(board)]]
        yield Table(title=_("Figures"), header=[_("Figure"), _("Value"), _("Change against the previous period"),
                                                _("Formula")], above=above, widths=[36, 14, 14, 60],
                    rows=[[str(t.metric.label), tile_value(t), tile_change(t), str(t.metric.formula)]
                          for t in board.tiles])
        columns = [_("Due"), _("Completed"), _("Completion rate"), _("Completed on time"), _("On-time rate")]
        for title, first, rows in ((_("Team"), _("Staff member"), board.team),
                                   (_("Departments"), _("Department"), board.departments)):
            if rows:
                yield Table(title=title, header=[first, *columns], above=above, widths=[24], rows=[
                    [row.label, row.due, row.done, _rate(_share(row.completion)), row.on_time,
                     _rate(_share(row.on_time_rate))] for row in rows])


def _share(percent: float | None) -> float | None:
    return None if percent is None else percent / 100
