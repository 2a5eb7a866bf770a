from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data (`manage.py seed_demo`): an app of its own so its command lives beside the builders, above
    every domain app (the import-linter layers in pyproject.toml). It has no models."""

    name = "crm.demo"
    label = "demo"
    verbose_name = "Demo data"
