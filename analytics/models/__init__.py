"""Rollup tables of the reports: the follow-up report (回访报告, followups) and the survey results (满意度调查结果,
surveys), with the manufacturer's own survey results imported to be read side by side with ours."""

from analytics.models.dashboards import MeasureDay, MeasureMonth
from analytics.models.followups import (
    AnswerDay,
    AnswerFigures,
    AnswerMonth,
    FollowUpDay,
    FollowUpFigures,
    FollowUpMonth,
    RollupRow,
    RollupState,
)
from analytics.models.lifecycle import LifecycleCohort, LifecycleFlow, LifecycleMonth, LifecycleState
from analytics.models.manufacturer_exports import ManufacturerExport, ManufacturerExportRun
from analytics.models.subscriptions import SentReport, Subscription
from analytics.models.surveys import (
    ManufacturerImport,
    ManufacturerResponse,
    Source,
    SurveyAnswerDay,
    SurveyAnswerMonth,
    SurveyDay,
    SurveyMonth,
)
from analytics.models.targets import PeriodKind, Target
from analytics.models.usage import StaffLogin, UsageDay

__all__ = [
    "AnswerDay",
    "AnswerFigures",
    "AnswerMonth",
    "FollowUpDay",
    "FollowUpFigures",
    "FollowUpMonth",
    "ManufacturerExport",
    "ManufacturerExportRun",
    "LifecycleCohort",
    "LifecycleFlow",
    "LifecycleMonth",
    "LifecycleState",
    "ManufacturerImport",
    "MeasureDay",
    "MeasureMonth",
    "ManufacturerResponse",
    "PeriodKind",
    "RollupRow",
    "RollupState",
    "SentReport",
    "Source",
    "StaffLogin",
    "Subscription",
    "SurveyAnswerDay",
    "SurveyAnswerMonth",
    "SurveyDay",
    "SurveyMonth",
    "Target",
    "UsageDay",
]
