"""Cases, their messages, and what agents do to them, over HTTP.

The list is the inbox's: the same queues, filters, search and cursor pages
(``cases.inbox``), so a case the workspace would not show its user is never listed. Every
change goes through the service the workspace calls (``casework.actions``), with its checks.
"""

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from api import permissions
from api.serializers import (
    CaseChangeInput,
    CaseSerializer,
    MessageSerializer,
    MoveInput,
    NoteInput,
    ReplyInput,
)
from cases import inbox, visibility
from cases.models import Case, Message
from casework import actions
from channels.models import Platform
from staff import roles

MAX_ID = 2**63 - 1


class CaseListInput(serializers.Serializer):
    """The inbox's query string, checked: a wrong value is an error here, not ignored."""

    queue = serializers.CharField(
        required=False,
        max_length=40,
        help_text="A queue key as the inbox names them: unassigned, mine, sla, team:<id>, all, "
        "pending, resolved, spam; everything (every status, no spam) by default.",
    )
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    status = serializers.ChoiceField(choices=Case.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Case.Priority.choices, required=False)
    tag = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    team = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    assignee = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    q = serializers.CharField(
        required=False, max_length=200, help_text="Words in messages, names and handles."
    )
    sort = serializers.ChoiceField(choices=list(inbox.SORTS), required=False)
    cursor = serializers.CharField(
        required=False, max_length=400, help_text="``next_cursor`` of the page before."
    )
    size = serializers.IntegerField(required=False, min_value=1, max_value=inbox.MAX_PAGE_SIZE)


CasePage = inline_serializer(
    "CasePage",
    {
        "results": CaseSerializer(many=True),
        "next_cursor": serializers.CharField(allow_null=True),
    },
)


class InboxPageSchema(AutoSchema):
    """The list answers one page object (``CasePage``), not an array of cases, which is what
    the schema generator presumes of a list."""

    def _is_list_view(self, serializer=None) -> bool:
        if getattr(self.view, "action", None) == "list":
            return False
        return super()._is_list_view(serializer)


def case_rows() -> QuerySet[Case]:
    return Case.objects.select_related(
        "customer", "team", "assignee__agent_profile"
    ).prefetch_related("tags")


def visible_case(request: Request, case_id: Any) -> Case:
    """The case in the URL, if the user may see it; 404 as if it did not exist otherwise."""
    case = case_rows().filter(pk=case_id).first() if str(case_id).isdigit() else None
    if case is None or not visibility.can_see(request.user, case):
        raise Http404(f"There is no case {case_id}.")
    return case


class CaseViewSet(viewsets.ViewSet):
    """Cases the user may see. Agents, supervisors and admins change them; managers read."""

    lookup_value_regex = permissions.RECORD_ID
    schema = InboxPageSchema()

    def get_permissions(self):
        if self.action in ("list", "retrieve", "messages"):
            return [permissions.ViewCases()]
        if self.action == "reassign":
            return [permissions.ViewCases(), permissions.ReassignCases()]
        return [permissions.ViewCases(), permissions.WorkCases()]

    @extend_schema(operation_id="cases_list", parameters=[CaseListInput], responses=CasePage)
    def list(self, request: Request) -> Response:
        query = CaseListInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        given = query.validated_data
        try:
            page = inbox.inbox_page(
                user=permissions.acting_user(request),
                queue=given.get("queue", inbox.EVERYTHING.key),
                filters=inbox.InboxFilters(
                    platform=given.get("platform", ""),
                    status=given.get("status", ""),
                    priority=given.get("priority", ""),
                    tag=given.get("tag"),
                    team=given.get("team"),
                    assignee=given.get("assignee"),
                    q=given.get("q", ""),
                ),
                sort=given.get("sort", inbox.DEFAULT_SORT),
                cursor=given.get("cursor"),
                size=given.get("size", inbox.PAGE_SIZE),
            )
        except (inbox.UnknownQueue, inbox.InvalidCursor) as error:
            raise serializers.ValidationError(
                {"cursor" if isinstance(error, inbox.InvalidCursor) else "queue": [str(error)]}
            ) from error
        ids = [int(row["id"]) for row in page.rows]
        found = {case.pk: case for case in case_rows().filter(pk__in=ids)}
        cases = [found[pk] for pk in ids if pk in found]
        return Response(
            {"results": CaseSerializer(cases, many=True).data, "next_cursor": page.next_cursor}
        )

    @extend_schema(responses=CaseSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(CaseSerializer(visible_case(request, pk)).data)

    @extend_schema(request=CaseChangeInput, responses=CaseSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change status, priority, tags (the whole list of names), spam or team: all of the
        given fields, or, if one is refused, none."""
        case = visible_case(request, pk)
        change = CaseChangeInput(data=request.data)
        change.is_valid(raise_exception=True)
        given, user = change.validated_data, permissions.acting_user(request)
        if "team" in given and not user.has_perm(roles.REASSIGN_CASE):
            raise PermissionDenied(
                "Your role does not allow you to move cases between teams; hand the case "
                "off with a note instead."
            )
        with transaction.atomic():
            if "status" in given:
                actions.set_status(case_id=case.pk, by=user, status=given["status"])
            if "priority" in given:
                actions.set_priority(case_id=case.pk, by=user, priority=given["priority"])
            if "tags" in given:
                actions.set_tags(case_id=case.pk, by=user, names=given["tags"])
            if "spam" in given:
                actions.set_spam(case_id=case.pk, by=user, spam=given["spam"])
            if "team" in given:
                actions.reassign_case(case_id=case.pk, by=user, to_team_id=given["team"])
        return self._case(request, case.pk, moved="team" in given)

    @extend_schema(request=None, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str) -> Response:
        case = visible_case(request, pk)
        actions.claim_case(case_id=case.pk, agent=permissions.acting_user(request))
        return self._case(request, case.pk)

    @extend_schema(request=None, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str) -> Response:
        case = visible_case(request, pk)
        actions.release_case(case_id=case.pk, agent=permissions.acting_user(request))
        return self._case(request, case.pk)

    @extend_schema(request=MoveInput, responses=CaseSerializer)
    @action(detail=True, methods=["post"], url_path="hand-off")
    def hand_off(self, request: Request, pk: str) -> Response:
        """Pass the case to a colleague or a team with a note (required) they read first."""
        return self._move(request, pk, actions.hand_off_case)

    @extend_schema(request=MoveInput, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk: str) -> Response:
        """A supervisor moves the case to an agent or a team, whoever holds it."""
        return self._move(request, pk, actions.reassign_case)

    @extend_schema(
        responses=MessageSerializer(many=True),
        parameters=[
            OpenApiParameter("after", OpenApiTypes.INT, description="Messages after this id.")
        ],
    )
    @action(detail=True, methods=["get"])
    def messages(self, request: Request, pk: str) -> Response:
        """The case's messages, notes included, oldest first, 100 at a time after ``after``."""
        case = visible_case(request, pk)
        after = request.query_params.get("after", "0")
        if not after.isdigit() or int(after) > MAX_ID:
            raise serializers.ValidationError({"after": ["A message id."]})
        found = (
            Message.objects.filter(case=case, pk__gt=int(after))
            .select_related("author_identity", "author_user__agent_profile")
            .prefetch_related("attachments")
            .order_by("pk")[:100]
        )
        return Response(MessageSerializer(found, many=True).data)

    @extend_schema(request=ReplyInput, responses={201: MessageSerializer})
    @action(detail=True, methods=["post"])
    def replies(self, request: Request, pk: str) -> Response:
        """Reply to the customer on the channel they used, through the outbound queue and
        the composer's checks; an unassigned case is claimed by the reply."""
        case = visible_case(request, pk)
        given = ReplyInput(data=request.data)
        given.is_valid(raise_exception=True)
        reply = actions.reply_to_case(
            case_id=case.pk,
            agent=permissions.acting_user(request),
            text=given.validated_data["text"],
            answering_id=given.validated_data.get("answering"),
            subject=given.validated_data.get("subject"),
            cc=given.validated_data.get("cc", []),
        )
        return Response(MessageSerializer(reply).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=NoteInput, responses={201: MessageSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str) -> Response:
        """An internal note; colleagues @mentioned by username are notified."""
        case = visible_case(request, pk)
        given = NoteInput(data=request.data)
        given.is_valid(raise_exception=True)
        note = actions.add_note(
            case_id=case.pk,
            author=permissions.acting_user(request),
            text=given.validated_data["text"],
        )
        return Response(MessageSerializer(note).data, status=status.HTTP_201_CREATED)

    def _move(self, request: Request, pk: str, service: Callable[..., Case]) -> Response:
        """Hand off or reassign (``service``) as the request's ``MoveInput`` says."""
        case = visible_case(request, pk)
        move = MoveInput(data=request.data)
        move.is_valid(raise_exception=True)
        service(
            case_id=case.pk,
            by=permissions.acting_user(request),
            note=move.validated_data["note"],
            to_user_id=move.validated_data.get("agent"),
            to_team_id=move.validated_data.get("team"),
        )
        return self._case(request, case.pk, moved=True)

    def _case(self, request: Request, case_id: int, *, moved: bool = False) -> Response:
        """The case as it is now. Moved to a team the user does not see, it is answered
        with what the user may still know: that it left."""
        case = case_rows().get(pk=case_id)
        if moved and not visibility.can_see(request.user, case):
            return Response({"id": case_id, "moved": True})
        return Response(CaseSerializer(case).data)
