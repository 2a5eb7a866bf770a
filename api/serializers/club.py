"""The club as the API shows it: members (the customer by id and name, their level, balances), cards, and the
points journal (积分), each entry with its reason, source and author."""

from __future__ import annotations

from api.serializers import refs
from api.serializers.fast import FastModelSerializer
from club.models import Card, Member, PointEntry

STAMPS = ["created_at", "updated_at"]


class MemberSerializer(FastModelSerializer):
    customer = refs.customer()
    level = refs.named()
    enrolled_by = refs.staff()

    class Meta:
        model = Member
        fields = ["id", "customer", "level", "status", "enrolled_at", "enrolled_by", "consent_at", "consent_note",
                  "points", "qualifying", "level_since", "review_on", "cancelled_at", "cancel_reason", *STAMPS]
        read_only_fields = fields


class CardSerializer(FastModelSerializer):
    issued_by = refs.staff()

    class Meta:
        model = Card
        fields = ["id", "member", "number", "status", "issued_at", "issued_by", "lost_at", "replaced_by", *STAMPS]
        read_only_fields = fields


class MemberDetailSerializer(MemberSerializer):
    cards = CardSerializer(many=True, read_only=True, help_text="Oldest first; the current one is active or lost.")

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "cards"]
        read_only_fields = fields


class PointEntrySerializer(FastModelSerializer):
    created_by = refs.staff()
    approved_by = refs.staff()

    class Meta:
        model = PointEntry
        fields = ["id", "member", "kind", "points", "qualifying", "spend", "reason", "source", "source_id", "card",
                  "created_by", "actor", "approved_by", "reverses", "occurred_at", *STAMPS]
        read_only_fields = fields
