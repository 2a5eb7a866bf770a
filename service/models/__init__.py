"""The service department's data: follow-up calls (回访) with their plans, questionnaires and appointments
(followups), and satisfaction surveys (满意度调查) that ask the same questionnaires' questions (surveys)."""

from service.models.followups import (
    Answer,
    Appointment,
    CallSettings,
    ContactOptOut,
    ContactType,
    DigestSent,
    FollowUp,
    FollowUpCall,
    FollowUpPlan,
    Priority,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    TsTzRange,
)
from service.models.surveys import Survey, SurveyAnswer, SurveyInvitation, SurveyResponse

__all__ = [
    "Answer",
    "Appointment",
    "CallSettings",
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
    "Survey",
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyResponse",
    "TsTzRange",
]
