"""The change history (django-pghistory) of tenant-owned models, and how bulk writers stand it aside.

`track()` is `pghistory.track` with the project's two events (insert, update of a tracked field) and the
tenant scope on the event model. Both triggers carry a WHEN condition that is false while the transaction
has set `crm.bulk_history` to 'on' (crm.bulk.bulk_history): a bulk writer (the customer import, the demo
seed) then writes the same event rows set-based itself. A WHEN condition costs PostgreSQL nothing per row;
pgtrigger's own `pgtrigger.ignore` still calls the trigger function, which opens a subtransaction to read the
setting (about 45 µs a row, more than the row's insert)."""

from __future__ import annotations

import pghistory
import pgtrigger
from django_scopes import ScopedManager

BULK_SETTING = "crm.bulk_history"
OUTSIDE_BULK = f"(current_setting('{BULK_SETTING}', true) IS DISTINCT FROM 'on')"  # parenthesised: WHEN takes it as is


class _AnyChangeOutsideBulk(pgtrigger.AnyChange):
    """pgtrigger.AnyChange (pghistory fills in the tracked fields), unless a bulk writer runs."""

    def resolve(self, model) -> str:
        return f"(({super().resolve(model)}) AND {OUTSIDE_BULK})"


def track(**kwargs):
    """Record inserts and changes of the model's fields (`exclude=` leaves some out); the event model is
    tenant-scoped like the model."""
    return pghistory.track(
        pghistory.UpdateEvent("update", condition=_AnyChangeOutsideBulk()),
        pghistory.InsertEvent("insert", condition=pgtrigger.Condition(OUTSIDE_BULK)),
        attrs={"objects": ScopedManager(tenant="tenant")},
        **kwargs,
    )

