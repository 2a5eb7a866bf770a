"""/api/v1/deletions/?resource=customers: the rows of a resource deleted (or customers merged away) since a sync,
by the same keyset and `updated_since` as the lists: a system that keeps a copy deletes them too."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins

from api.models import Tombstone
from api.scopes import RESOURCES
from api.serializers.deletions import DeletionSerializer
from api.serializers.errors import FieldErrors
from api.views.base import ERRORS, UPDATED_SINCE, ResourceViewSet

RESOURCE = OpenApiParameter("resource", str, OpenApiParameter.QUERY, enum=list(RESOURCES),
                            description="Only this resource's deletions (the credential must read it); without it, "
                                        "those of every resource the credential reads.")


@extend_schema_view(list=extend_schema(parameters=[RESOURCE, UPDATED_SINCE], responses={
    200: DeletionSerializer(many=True), 400: FieldErrors, **ERRORS}))
class DeletionViewSet(mixins.ListModelMixin, ResourceViewSet):
    """What was deleted from a resource, oldest first. Keep the last `updated_at` and ask again with
    `updated_since`, as for the resource's own list."""

    queryset = Tombstone.objects.none()
    serializer_class = DeletionSerializer

    @property
    def resource(self):
        """The resource asked for, so api.auth.CredentialScopes checks the credential reads it (None: all)."""
        wanted = self.request.query_params.get("resource", "")
        if wanted and wanted not in RESOURCES:
            raise exceptions.ValidationError(
                {"resource": [_("Choose one of: %(resources)s.") % {"resources": ", ".join(RESOURCES)}]})
        return wanted or None

    def rows(self):
        if self.resource:
            return Tombstone.objects.filter(resource=self.resource)
        credential = self.request.auth
        return Tombstone.objects.filter(resource__in=[r for r in RESOURCES if credential.allows(r)])
