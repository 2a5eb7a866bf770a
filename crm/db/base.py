"""Django's PostgreSQL backend (settings.DATABASES' ENGINE "crm.db"), with one change for the tenant keys.

The primary key of every table Citus would distribute is `(id, tenant_id)` in the database
(crm.tenant_keys.AddTenantToPrimaryKey), while Django still sees `id`. Django's PostgreSQL backend shortens a
GROUP BY over a model's columns to the model's pk alone (`allows_group_by_selected_pks`): PostgreSQL accepts
that only when the grouped columns hold the table's whole primary key ("column … must appear in the GROUP BY
clause" otherwise). For those models the GROUP BY lists the selected columns instead, as on other databases;
the query and its rows are the same."""

from django.db.backends.postgresql import base, features


class DatabaseFeatures(features.DatabaseFeatures):
    def allows_group_by_selected_pks_on_model(self, model):
        from crm.tenant_keys import is_distributed

        return super().allows_group_by_selected_pks_on_model(model) and not is_distributed(model)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
