"""Who and what cases are worked with: teams, agents, canned responses."""

from django.contrib.auth.models import User
from django.db.models import QuerySet
from rest_framework import mixins, viewsets
from rest_framework.serializers import BaseSerializer

from api import permissions
from api.serializers import AgentSerializer, CannedResponseSerializer, TeamSerializer
from cases.models import CannedResponse
from staff.models import Team
from staff.selectors import case_workers


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Team.objects.order_by("name")
    serializer_class = TeamSerializer
    lookup_value_regex = permissions.RECORD_ID
    permission_classes = [permissions.ViewCases]
    pagination_class = None


class AgentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Everyone a case can be assigned or handed to."""

    serializer_class = AgentSerializer
    lookup_value_regex = permissions.RECORD_ID
    permission_classes = [permissions.ViewCases]
    pagination_class = None

    def get_queryset(self) -> QuerySet[User]:
        return (
            case_workers()
            .select_related("agent_profile")
            .prefetch_related("groups", "agent_profile__teams")
            .order_by("username")
        )


class CannedResponseViewSet(viewsets.ModelViewSet):
    """Read by whoever works cases; written by supervisors and admins."""

    queryset = CannedResponse.objects.order_by("title")
    serializer_class = CannedResponseSerializer
    lookup_value_regex = permissions.RECORD_ID
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [permissions.WorkCases()]
        return [permissions.ManageCanned()]

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.save(created_by=self.request.user)
