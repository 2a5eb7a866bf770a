"""Merging two customer records (去重合并) into one, and dismissing a pair that is not a duplicate.

`customer_merge` moves EVERYTHING that points at the merged customer to the survivor, found
generically from the model graph (every reverse relation of Customer, hidden ones included), so
rows added later by other apps — follow-ups, complaints, club members — move too without editing
this module. Only these stay where they are:

* the merged record's own change history (pghistory events: the audit of that record);
* `CustomerMerge.merged` (the record of what was merged);
* duplicate dismissals involving the merged customer (a judgement about a record that is gone).

A unique constraint that both customers would break after the move (a tag both had) keeps the
survivor's row; the merged customer's copy is dropped and written into the merge record's snapshot.
When such a row has rows of its own pointing at it (e.g. a club membership with its points), dropping
it would lose them: the merge is refused with a message instead.

Per-object permissions (django-guardian) granted on the merged customer move to the survivor too.
"""

from __future__ import annotations

import json

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from crm.events import emit
from customers.models import Customer, CustomerMerge, DuplicateDismissal
from customers.relations import customer_relations, is_history
from customers.services import quality
from customers.services.customers import customer_check_mobile_free, customer_last_visit_touch

# The profile fields a user picks from one customer or the other; "consent" is the consent record as a
# whole (given, when, how, withdrawn), never half of one and half of the other.
MERGE_FIELDS = [
    "kind", "name", "mobile", "other_phone", "email", "wechat_id", "gender", "birthday", "address", "id_number",
    "source", "tier", "stage", "owner", "department", "credit_grade", "credit_limit", "credit_review_on", "consent",
]
CONSENT_FIELDS = ["marketing_consent", "consent_at", "consent_channel", "consent_withdrawn_at"]


def _unique_sets(model, fk) -> list[tuple[list[str], Q | None]]:
    """The other fields of each unique constraint containing `fk` (and the constraint's condition)."""
    sets = []
    if fk.unique:
        sets.append(([], None))
    for constraint in model._meta.constraints:
        fields = list(getattr(constraint, "fields", ()) or ())
        if isinstance(constraint, models.UniqueConstraint) and fk.name in fields and not constraint.expressions:
            sets.append(([f for f in fields if f != fk.name], constraint.condition))
    for together in model._meta.unique_together:
        if fk.name in together:
            sets.append(([f for f in together if f != fk.name], None))
    return sets


def _row_data(obj) -> dict:
    return json.loads(json.dumps({f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields},
                                 cls=DjangoJSONEncoder))


def _has_dependents(model) -> bool:
    return any(r.auto_created and not r.concrete and r.is_relation and not is_history(r.related_model)
               for r in model._meta.get_fields(include_hidden=True))


def _move_related(survivor: Customer, merged: Customer) -> tuple[dict, dict]:
    """Point every row of `merged` at `survivor`. Returns (moved counts, dropped duplicates)."""
    moved, dropped, now = {}, {}, timezone.now()
    for model, fk in customer_relations():
        manager = model._default_manager
        key = f"{model._meta.label_lower}.{fk.name}"
        rows = manager.filter(**{fk.name: merged.pk})
        for others, condition in _unique_sets(model, fk):
            clash = manager.filter(**{fk.name: survivor.pk}, **{name: OuterRef(name) for name in others})
            colliding = rows.filter(Exists(clash.filter(condition) if condition else clash))
            if condition:
                colliding = colliding.filter(condition)
            victims = list(colliding)
            if not victims:
                continue
            if _has_dependents(model):
                raise ValidationError(_("Both customers have a %(what)s that cannot be combined; resolve that "
                                        "first.") % {"what": model._meta.verbose_name})
            dropped.setdefault(key, []).extend(_row_data(v) for v in victims)
            manager.filter(pk__in=[v.pk for v in victims]).delete()
        changes = {fk.name: survivor.pk}
        if any(field.name == "updated_at" for field in model._meta.concrete_fields):
            changes["updated_at"] = now  # a system that syncs by updated_since (the API) sees the row move
        count = rows.update(**changes)
        if count:
            moved[key] = count
    _move_object_permissions(survivor, merged, moved)
    return moved, dropped


def _move_object_permissions(survivor: Customer, merged: Customer, moved: dict) -> None:
    """django-guardian grants on the merged customer (a customer shared with a colleague) go along."""
    from guardian.models import GroupObjectPermission, UserObjectPermission

    content_type = ContentType.objects.get_for_model(Customer)
    for model, who in ((UserObjectPermission, "user"), (GroupObjectPermission, "group")):
        grants = model.objects.filter(content_type=content_type, object_pk=str(merged.pk))
        existing = model.objects.filter(content_type=content_type, object_pk=str(survivor.pk),
                                        permission=OuterRef("permission"), **{who: OuterRef(who)})
        grants.filter(Exists(existing)).delete()
        count = grants.update(object_pk=str(survivor.pk))
        if count:
            moved[f"{model._meta.label_lower}.object_pk"] = count


def _take(survivor: Customer, merged: Customer, fields) -> None:
    for name in fields:
        for attname in (CONSENT_FIELDS if name == "consent" else [Customer._meta.get_field(name).attname]):
            setattr(survivor, attname, getattr(merged, attname))


def _check_profile(customer: Customer) -> None:
    errors = {}
    if customer.kind == Customer.Kind.PERSON and (customer.credit_grade or customer.credit_limit is not None):
        errors["credit_grade"] = [_("Credit ratings are for companies: keep the company kind or drop the "
                                    "rating.")]
    if customer.owner_id is None and customer.department_id is None:
        errors["owner"] = [_("Choose an owner or a team: nobody would see this customer otherwise.")]
    if errors:
        raise ValidationError(errors)
    customer.full_clean(exclude=["mobile"], validate_constraints=False)


@transaction.atomic
def customer_merge(*, survivor: Customer, merged: Customer, by: Staff | None, fields=()) -> CustomerMerge:
    """Merge `merged` into `survivor`, taking the profile fields named in `fields` (see MERGE_FIELDS)
    from `merged`. Everything attached moves; `merged` becomes inactive with merged_into=survivor (its
    mobile is freed, so the survivor may take it); the merge is recorded with a snapshot of the merged
    record and the counts moved. Both rows are locked for the duration."""
    fields = list(dict.fromkeys(fields))
    unknown = [name for name in fields if name not in MERGE_FIELDS]
    if unknown:
        raise ValidationError(_("Unknown field: %(fields)s") % {"fields": ", ".join(unknown)})
    if survivor.pk == merged.pk:
        raise ValidationError(_("A customer cannot be merged with itself."))
    if survivor.tenant_id != merged.tenant_id:
        raise ValidationError(_("Only customers of the same company can be merged."))
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])
              .order_by("pk")}
    survivor, merged = locked.get(survivor.pk), locked.get(merged.pk)
    if survivor is None or merged is None or not survivor.is_active or not merged.is_active:
        raise ValidationError(_("One of these customers has been merged into another already."))

    snapshot = _row_data(merged)
    snapshot["tags"] = list(merged.tags.order_by("name").values_list("name", flat=True))
    # the merged record leaves first: its mobile no longer blocks the survivor's
    merged.is_active, merged.merged_into = False, survivor
    merged.save(update_fields=["is_active", "merged_into", "updated_at"])
    DuplicateDismissal.objects.filter(Q(first=merged) | Q(second=merged)).delete()

    moved, dropped = _move_related(survivor, merged)
    if dropped:
        snapshot["dropped_duplicates"] = dropped

    _take(survivor, merged, fields)
    _check_profile(survivor)
    customer_check_mobile_free(survivor)
    survivor.save()  # a normal save: the change history shows which fields changed, by whom
    customer_last_visit_touch(survivor)
    quality.completeness_refresh(survivor)
    record = CustomerMerge.objects.create(tenant=survivor.tenant, survivor=survivor, merged=merged, merged_by=by,
                                          snapshot=snapshot, moved=moved)
    emit("customer.merged", survivor, merged_id=merged.pk)
    return record


@transaction.atomic
def duplicate_dismiss(*, first: Customer, second: Customer, by: Staff | None) -> DuplicateDismissal:
    """Record that two customers are not the same person: the pair no longer shows as a duplicate."""
    if first.pk == second.pk:
        raise ValidationError(_("A customer cannot be a duplicate of itself."))
    if first.tenant_id != second.tenant_id:
        raise ValidationError(_("Only customers of the same company can be compared."))
    low, high = sorted((first, second), key=lambda c: c.pk)
    dismissal, _created = DuplicateDismissal.objects.get_or_create(
        tenant=low.tenant, first=low, second=high, defaults={"dismissed_by": by})
    return dismissal
