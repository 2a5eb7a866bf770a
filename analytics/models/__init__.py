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
from analytics.models.surveys import (
    ManufacturerImport,
    ManufacturerResponse,
    Source,
    SurveyAnswerDay,
    SurveyAnswerMonth,
    SurveyDay,
    SurveyMonth,
)

__all__ = [
    "AnswerDay",
    "AnswerFigures",
    "AnswerMonth",
    "FollowUpDay",
    "FollowUpFigures",
    "FollowUpMonth",
    "LifecycleCohort",
    "LifecycleFlow",
    "LifecycleMonth",
    "LifecycleState",
    "ManufacturerImport",
    "MeasureDay",
    "MeasureMonth",
    "ManufacturerResponse",
    "RollupRow",
    "RollupState",
    "Source",
    "SurveyAnswerDay",
    "SurveyAnswerMonth",
    "SurveyDay",
    "SurveyMonth",
]
