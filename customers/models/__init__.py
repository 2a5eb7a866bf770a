from customers.models.customers import Customer, CustomerNote, CustomerTag, MobileReveal, Tag
from customers.models.documents import CustomerDocument
from customers.models.exports import ExportJob
from customers.models.imports import ImportJob, ImportMapping, ImportRow
from customers.models.jobs import JobStatus
from customers.models.leads import Lead, LeadEvent, RoundRobin
from customers.models.lifecycle import LifecycleSettings
from customers.models.purchases import Purchase, ServiceVisit
from customers.models.quality import CompletenessRule, CustomerMerge, DuplicateDismissal
from customers.models.segments import Segment
from customers.models.vehicles import MileageReading, Vehicle

__all__ = [
    "CompletenessRule", "Customer", "CustomerDocument", "CustomerMerge", "CustomerNote", "CustomerTag",
    "DuplicateDismissal", "ExportJob", "ImportJob", "ImportMapping", "ImportRow", "JobStatus", "Lead", "LeadEvent",
    "LifecycleSettings",
    "MileageReading", "MobileReveal", "Purchase", "RoundRobin", "Segment", "ServiceVisit", "Tag", "Vehicle",
]
