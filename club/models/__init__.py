from club.models.activities import Activity, ActivityLevel, Registration
from club.models.members import Card, LevelEvent, Member
from club.models.perks import ServiceQuota, ServiceRequest
from club.models.points import AdjustmentRequest, LotDraw, PointEntry, PointLot, Reconciliation
from club.models.programme import HandbookVersion, Level, LevelBenefit, PointRule, Programme
from club.models.referrals import Referral
from club.models.rewards import Redemption, Reward

__all__ = [
    "Activity", "ActivityLevel", "AdjustmentRequest", "Card", "HandbookVersion", "Level", "LevelBenefit",
    "LevelEvent", "LotDraw", "Member", "PointEntry", "PointLot", "PointRule", "Programme", "Reconciliation",
    "Redemption", "Referral", "Registration", "Reward", "ServiceQuota", "ServiceRequest",
]
