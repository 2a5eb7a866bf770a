"""Masking for a read-only credential (serializer context "masked"), as a data analyst sees the pages: a mobile as
138****5678 (customers.validators.mask_mobile); names, and what staff and customers wrote, as on the pages."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.validators import mask_mobile


@extend_schema_field(OpenApiTypes.STR)
class MaskedMobileField(serializers.Field):
    """An E.164 mobile (+8613812345678), masked (138****5678) for a read-only credential; "" when there is none."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("help_text", "E.164 (+8613812345678); masked (138****5678) for a read-only credential.")
        super().__init__(**kwargs)

    def to_representation(self, value):
        if not value:
            return ""
        return mask_mobile(value) if self.context.get("masked", True) else value


@extend_schema_field(OpenApiTypes.BOOL)
class MaskedFlagField(serializers.Field):
    """Whether personal data is masked for this credential."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True,
                         help_text="Whether personal data is masked for this credential.", **kwargs)

    def to_representation(self, value) -> bool:
        return bool(self.context.get("masked", True))
