"""Customers with their platform identities, and merging two into one."""

from django.db.models import Q, QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from api import permissions
from api.serializers import CustomerSerializer, MergeInput
from cases import visibility
from casework import linking, merge
from customers.models import Customer


class ById(CursorPagination):
    ordering = "pk"
    page_size = 50


class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customers with a case the user may see; ``q`` finds names, handles and addresses.
    A merged customer stays readable, pointing at the one it became part of."""

    serializer_class = CustomerSerializer
    permission_classes = [permissions.ViewCases]
    pagination_class = ById
    lookup_value_regex = permissions.RECORD_ID

    def get_queryset(self) -> QuerySet[Customer]:
        found = Customer.objects.prefetch_related("identities")
        ids = visibility.visible_customer_ids(self.request.user)
        if ids is not None:
            found = found.filter(pk__in=ids)
        if self.action != "list":
            return found
        found = found.filter(merged_into__isnull=True)
        words = self.request.query_params.get("q", "").strip()[:200]
        if words:
            found = found.filter(
                Q(display_name__icontains=words)
                | Q(identities__handle__icontains=words)
                | Q(identities__external_id__iexact=words)
            ).distinct()
        return found

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="A name, handle or address.")
        ]
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=MergeInput, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str) -> Response:
        """Merge this customer into ``into``: identities and cases move, their two active
        cases fold into one, and this one stays as a pointer. Supervisors (and agents where
        the setting allows)."""
        if not linking.may_merge(request.user):
            raise PermissionDenied("Your role does not allow you to merge customers.")
        given = MergeInput(data=request.data)
        given.is_valid(raise_exception=True)
        source = self._customer(pk)
        target = self._customer(given.validated_data["into"])
        user = permissions.acting_user(request)
        reason = f"Merged through the API by {user.get_username()}: "
        merged = merge.merge_customers(
            source=source,
            target=target,
            actor=user,
            reason=reason + given.validated_data["reason"],
        )
        return Response(CustomerSerializer(self.get_queryset().get(pk=merged.pk)).data)

    def _customer(self, customer_id: int | str) -> Customer:
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None or not visibility.can_see_customer(self.request.user, customer):
            raise Http404(f"There is no customer {customer_id}.")
        return customer
