"""The service department's data: follow-up calls (回访) with their plans, questionnaires and appointments
(followups), satisfaction surveys (满意度调查) that ask the same questionnaires' questions (surveys), and
complaints (投诉) on working-hour clocks (complaints)."""

from service.models.appointments import Appointment, TsTzRange
from service.models.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintPolicy,
    Severity,
    WorkCalendarDay,
)
from service.models.followups import (
    ContactOptOut,
    ContactType,
    DigestSent,
    FollowUp,
    FollowUpCall,
    FollowUpPlan,
    Priority,
)
from service.models.questionnaires import Answer, Question, Questionnaire, QuestionnaireVersion
from service.models.settings import ServiceSettings
from service.models.surveys import Survey, SurveyAnswer, SurveyInvitation, SurveyResponse

__all__ = [
    "Answer",
    "Appointment",
    "ServiceSettings",
    "Complaint",
    "ComplaintCategory",
    "ComplaintEvent",
    "ComplaintPolicy",
    "ContactOptOut",
    "ContactType",
    "DigestSent",
    "FollowUp",
    "FollowUpCall",
    "FollowUpPlan",
    "Priority",
    "Question",
    "Questionnaire",
    "QuestionnaireVersion",
    "Severity",
    "Survey",
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyResponse",
    "TsTzRange",
    "WorkCalendarDay",
]
