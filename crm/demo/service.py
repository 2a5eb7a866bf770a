"""The common dealership follow-up plans, seeded by seed_demo (found by name first: a second run adds none)."""

from __future__ import annotations

from datetime import time

from accounts.models import Department, Position
from service.models import (
    ContactType,
    FollowUpPlan,
    Priority,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    ServiceSettings,
    Survey,
)

Trigger, Assignment, Kind = FollowUpPlan.Trigger, FollowUpPlan.Assignment, Question.Kind

# questionnaire, the plan that uses it, questions: (kind, text, choices, scale from, scale to, required)
QUESTIONNAIRES = [
    ("新车交车回访问卷", "新车交车3日回访", [
        (Kind.SCALE, "您对本次购车体验的整体满意度如何？（1-5分）", "", 1, 5, True),
        (Kind.YES_NO, "交车时销售顾问是否为您讲解了车辆功能和使用注意事项？", "", 1, 5, True),
        (Kind.SINGLE, "您最满意的环节是哪一个？", "销售顾问的专业程度\n交车仪式\n价格与手续办理\n展厅环境", 1, 5, True),
        (Kind.MULTIPLE, "您希望我们在哪些方面改进？", "等待时间\n讲解详细程度\n交车准备\n售后服务说明", 1, 5, False),
        (Kind.SCALE, "您向亲友推荐我店的可能性有多大？（0-10分）", "", 0, 10, True),
        (Kind.TEXT, "您还有其他意见或建议吗？", "", 1, 5, False),
    ]),
    ("维修后回访问卷", "维修后2日回访", [
        (Kind.SCALE, "您对本次维修保养服务的整体满意度如何？（1-5分）", "", 1, 5, True),
        (Kind.YES_NO, "车辆是否按约定时间交付？", "", 1, 5, True),
        (Kind.YES_NO, "故障是否已经完全排除？", "", 1, 5, True),
        (Kind.SINGLE, "您对服务顾问的接待态度评价如何？", "非常满意\n满意\n一般\n不满意", 1, 5, True),
        (Kind.TEXT, "您还有其他意见或建议吗？", "", 1, 5, False),
    ]),
]

# satisfaction surveys (满意度调查): name, kind, trigger, delay days, questionnaire, questions (kind, text, choices,
# scale, required, weight in the CSI, measure)
Measure = Question.Measure
SURVEYS = [
    ("服务满意度调查", "service", "visit", 1, "服务满意度问卷", [
        (Kind.SCALE, "您对本次维修保养服务的总体满意度如何？", "", (1, 5), True, 2, Measure.SATISFACTION),
        (Kind.SCALE, "您对服务顾问的接待与沟通是否满意？", "", (1, 5), True, 1, ""),
        (Kind.SCALE, "您对维修质量是否满意？", "", (1, 5), True, 1, ""),
        (Kind.SCALE, "您对交车时间和车辆清洁是否满意？", "", (1, 5), True, 1, ""),
        (Kind.SCALE, "您有多大可能向亲友推荐我店的售后服务？", "", (0, 10), True, 0, Measure.RECOMMEND),
        (Kind.TEXT, "您对我们还有什么意见或建议？", "", (1, 5), False, 0, ""),
    ]),
    ("销售满意度调查", "sales", "purchase", 3, "销售满意度问卷", [
        (Kind.SCALE, "您对本次购车经历的总体满意度如何？", "", (1, 5), True, 2, Measure.SATISFACTION),
        (Kind.SCALE, "您对销售顾问的专业程度是否满意？", "", (1, 5), True, 1, ""),
        (Kind.SCALE, "您对交车过程是否满意？", "", (1, 5), True, 1, ""),
        (Kind.SCALE, "您有多大可能向亲友推荐我店？", "", (0, 10), True, 0, Measure.RECOMMEND),
        (Kind.TEXT, "您对我们还有什么意见或建议？", "", (1, 5), False, 0, ""),
    ]),
]

# the demo questionnaires in English (the public survey page shows them to a customer who reads English):
# questionnaire: (title, intro) in Chinese and in English; question or choices: English
QUESTIONNAIRE_TEXTS = {
    "服务满意度问卷": (("售后服务满意度调查", "感谢您选择我们！请花一分钟告诉我们本次服务的感受。"),
                      ("Service satisfaction survey",
                       "Thank you for choosing us! Please take a minute to tell us how your visit went.")),
    "销售满意度问卷": (("购车满意度调查", "感谢您选择我们！请花一分钟告诉我们您的购车感受。"),
                      ("Purchase satisfaction survey",
                       "Thank you for choosing us! Please take a minute to tell us about buying your car.")),
}
ENGLISH = {
    "您对本次购车体验的整体满意度如何？（1-5分）": "How satisfied are you with buying your car overall? (1–5)",
    "交车时销售顾问是否为您讲解了车辆功能和使用注意事项？":
        "At the handover, did the sales consultant explain the car's features and how to look after it?",
    "您最满意的环节是哪一个？": "Which part pleased you most?",
    "销售顾问的专业程度\n交车仪式\n价格与手续办理\n展厅环境":
        "The consultant's expertise\nThe handover ceremony\nPrice and paperwork\nThe showroom",
    "您希望我们在哪些方面改进？": "Where should we improve?",
    "等待时间\n讲解详细程度\n交车准备\n售后服务说明":
        "Waiting time\nHow much was explained\nPreparing the car\nExplaining after-sales service",
    "您向亲友推荐我店的可能性有多大？（0-10分）": "How likely are you to recommend us to friends and family? (0–10)",
    "您还有其他意见或建议吗？": "Anything else you would like to tell us?",
    "您对本次维修保养服务的整体满意度如何？（1-5分）": "How satisfied are you with this service visit overall? (1–5)",
    "车辆是否按约定时间交付？": "Was your car ready at the agreed time?",
    "故障是否已经完全排除？": "Has the fault been fixed completely?",
    "您对服务顾问的接待态度评价如何？": "How did the service advisor treat you?",
    "非常满意\n满意\n一般\n不满意": "Very satisfied\nSatisfied\nSo-so\nDissatisfied",
    "您对本次维修保养服务的总体满意度如何？": "How satisfied are you with this service visit overall?",
    "您对服务顾问的接待与沟通是否满意？":
        "How satisfied are you with how the service advisor received you and kept you informed?",
    "您对维修质量是否满意？": "How satisfied are you with the quality of the work?",
    "您对交车时间和车辆清洁是否满意？": "How satisfied are you with the handover time and how clean your car was?",
    "您有多大可能向亲友推荐我店的售后服务？": "How likely are you to recommend our service to friends and family?",
    "您对我们还有什么意见或建议？": "Anything else you would like to tell us?",
    "您对本次购车经历的总体满意度如何？": "How satisfied are you with buying your car overall?",
    "您对销售顾问的专业程度是否满意？": "How satisfied are you with the sales consultant's expertise?",
    "您对交车过程是否满意？": "How satisfied are you with the handover?",
    "您有多大可能向亲友推荐我店？": "How likely are you to recommend us to friends and family?",
}


def english(text: str, choices: str = "") -> dict:
    """A demo question's `translations`: its English text and choices."""
    texts = {"text": ENGLISH[text]}
    if choices:
        texts["choices"] = ENGLISH[choices]
    return {"en": texts}


def translate_questionnaire(questionnaire) -> None:
    """Give a demo questionnaire its title and introduction, and its questions their English texts, where they
    have none yet (an administrator's own texts stay)."""
    texts = QUESTIONNAIRE_TEXTS.get(questionnaire.name)
    if texts and not questionnaire.title:
        (title, intro), (title_en, intro_en) = texts
        questionnaire.title, questionnaire.intro = title, intro
        questionnaire.translations = {"en": {"title": title_en, "intro": intro_en}}
        questionnaire.save(update_fields=["title", "intro", "translations", "updated_at"])
    for question in Question.objects.filter(version__questionnaire=questionnaire, translations={}):
        if question.text in ENGLISH and (not question.choices or question.choices in ENGLISH):
            question.translations = english(question.text, question.choices)
            question.save(update_fields=["translations", "updated_at"])


# name, trigger, contact type, months, offset days, shows before, expires after, assignment, queue or position,
# priority, script
PLANS = [
    ("新车交车3日回访", Trigger.PURCHASE, ContactType.SALES, None, 3, 0, 7, Assignment.ROUND_ROBIN, "客服专员（销售）",
     Priority.HIGH,
     "您好，我是{公司}客服专员，感谢您选择我们。请问新车使用是否顺利？交车时销售顾问是否为您讲解了车辆功能和保养常识？"),
    ("维修后2日回访", Trigger.SERVICE_VISIT, ContactType.SERVICE, None, 2, 0, 5, Assignment.ROUND_ROBIN,
     "客服专员（服务）", Priority.HIGH,
     "您好，我是{公司}售后客服。您前天在我店进行了车辆维修保养，请问车辆目前使用情况如何？对本次服务是否满意？"),
    ("首保提醒", Trigger.FIRST_MAINTENANCE, ContactType.MAINTENANCE, 6, -7, 3, 14, Assignment.QUEUE, "客服组",
     Priority.NORMAL,
     "您好，您的爱车即将到达首次保养时间（购车后6个月或5000公里），首保免费，建议您提前预约，我们将为您安排服务顾问。"),
    ("定期保养提醒", Trigger.ROUTINE_MAINTENANCE, ContactType.MAINTENANCE, 6, -7, 3, 21, Assignment.QUEUE, "客服组",
     Priority.NORMAL, "您好，距离您上次保养已近6个月，建议您近期到店保养。请问您方便哪天到店？我为您预约。"),
    ("生日关怀", Trigger.BIRTHDAY, ContactType.CARE, None, 0, 1, 2, Assignment.OWNER, "客服组", Priority.LOW,
     "您好，祝您生日快乐！感谢您一直以来对我们的支持，生日当月到店保养可享工时八折优惠。"),
    ("流失客户召回", Trigger.LAPSING, ContactType.WINBACK, 12, 0, 0, 30, Assignment.QUEUE, "客服组", Priority.NORMAL,
     "您好，很久没有见到您了，请问车辆近况如何？是否有用车方面的需要？我们近期有老客户回店保养优惠活动。"),
    ("预约到店提醒", Trigger.APPOINTMENT_REMINDER, ContactType.MAINTENANCE, None, -1, 0, 0, Assignment.QUEUE, "客服组",
     Priority.HIGH, "您好，我是{公司}客服。提醒您明天已预约到店，请问时间是否方便？如需改期请告诉我，我为您重新安排。"),
    ("预约未到店回访", Trigger.NO_SHOW, ContactType.SERVICE, None, 0, 0, 3, Assignment.QUEUE, "客服组",
     Priority.NORMAL, "您好，您今天预约了到店服务但没有过来，请问是临时有事吗？需要我为您重新预约时间吗？"),
]

# the call plans' overdue follow-ups: flagged after a day, moved to the manager after three
ESCALATION = {"新车交车3日回访": (1, 3), "维修后2日回访": (1, 3)}
# first maintenance: 6 months or 5,000 km after the purchase, whichever comes first
KM = {"首保提醒": 5000}


def seed_plans(tenant) -> int:
    """Create the plans the tenant lacks; the number created."""
    made = 0
    for name, trigger, contact_type, months, offset, before, after, assignment, who, priority, script in PLANS:
        if FollowUpPlan.objects.filter(name=name).exists():
            continue
        plan = FollowUpPlan(tenant=tenant, name=name, trigger=trigger, contact_type=contact_type, months=months,
                            offset_days=offset, shows_days_before=before, expires_days_after=after,
                            assignment=assignment, priority=priority, script=script.replace("{公司}", tenant.name))
        plan.flag_after_days, plan.escalate_after_days = ESCALATION.get(name, (None, None))
        plan.km = KM.get(name)
        if assignment == Assignment.ROUND_ROBIN:
            plan.position = Position.objects.get(title=who)
        else:
            plan.department = Department.objects.get(name=who)
        plan.full_clean()
        plan.save()
        made += 1
    return made


def seed_call_setup(tenant) -> None:
    """Hours and teams (calls 09:00–20:00, purchase intents to 销售部) and the questionnaires of the two call plans,
    published as version 1; skipped when the tenant has them."""
    if not ServiceSettings.objects.exists():
        ServiceSettings.objects.create(tenant=tenant, calls_from=time(9), calls_until=time(20),
                                       lead_department=Department.objects.filter(name="销售部").first())
    for name, plan_name, questions in QUESTIONNAIRES:
        if Questionnaire.objects.filter(name=name).exists():
            translate_questionnaire(Questionnaire.objects.get(name=name))
            continue
        questionnaire = Questionnaire.objects.create(tenant=tenant, name=name)
        version = QuestionnaireVersion.objects.create(tenant=tenant, questionnaire=questionnaire, number=1,
                                                      is_published=True)
        Question.objects.bulk_create([
            Question(tenant=tenant, version=version, order=order, kind=kind, text=text, choices=choices,
                     scale_min=low, scale_max=high, required=required, translations=english(text, choices))
            for order, (kind, text, choices, low, high, required) in enumerate(questions, start=1)])
        FollowUpPlan.objects.filter(name=plan_name).update(questionnaire=questionnaire)


SURVEY_TEAM = "客服组"  # the customer-service desk runs the satisfaction surveys


def seed_surveys(tenant) -> None:
    """The sales and service satisfaction surveys with their questionnaires (version 1, published), run by the
    customer-service desk; skipped when the tenant has them."""
    team = Department.objects.filter(name=SURVEY_TEAM).first()
    for name, kind, trigger, delay, questionnaire_name, questions in SURVEYS:
        if Survey.objects.filter(name=name).exists():
            Survey.objects.filter(name=name, department__isnull=True).update(department=team)
            for questionnaire in Questionnaire.objects.filter(name=questionnaire_name):
                translate_questionnaire(questionnaire)
            continue
        (title, intro), (title_en, intro_en) = QUESTIONNAIRE_TEXTS[questionnaire_name]
        questionnaire = Questionnaire.objects.create(
            tenant=tenant, name=questionnaire_name, title=title, intro=intro,
            translations={"en": {"title": title_en, "intro": intro_en}})
        version = QuestionnaireVersion.objects.create(tenant=tenant, questionnaire=questionnaire, number=1,
                                                      is_published=True)
        Question.objects.bulk_create([
            Question(tenant=tenant, version=version, order=order, kind=qkind, text=text, choices=choices,
                     scale_min=low, scale_max=high, required=required, weight=weight, measure=measure,
                     translations=english(text, choices))
            for order, (qkind, text, choices, (low, high), required, weight, measure) in enumerate(questions, start=1)])
        Survey.objects.create(tenant=tenant, name=name, kind=kind, trigger=trigger, delay_days=delay,
                              questionnaire=questionnaire, department=team)
