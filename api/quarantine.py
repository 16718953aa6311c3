"""Payloads ingest could not read, kept in quarantine: list them, retry one once the cause
is fixed, or discard it (it stays stored). Admins only."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from api import permissions
from api.serializers import QuarantinedSerializer
from intake.models import QuarantinedPayload
from intake.services import discard_quarantined, retry_quarantined


class Newest(CursorPagination):
    ordering = "-pk"
    page_size = 50


class QuarantineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = QuarantinedPayload.objects.all()
    serializer_class = QuarantinedSerializer
    permission_classes = [permissions.ManageQuarantine]
    pagination_class = Newest
    lookup_value_regex = permissions.RECORD_ID

    @extend_schema(request=None, responses=QuarantinedSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        """Run the payload through its normaliser and ingest again; on failure the row
        records the new error."""
        item = self.get_object()
        retry_quarantined(item=item)
        item.refresh_from_db()
        return Response(self.get_serializer(item).data)

    @extend_schema(request=None, responses=QuarantinedSerializer)
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        discard_quarantined(item=item)
        item.refresh_from_db()
        return Response(self.get_serializer(item).data)
