"""Template tags for the merge controls the case page includes: whether the user may merge,
and the customer's open merge suggestions."""

from django import template
from django.contrib.auth.models import AnonymousUser, User

from cases import visibility
from casework import linking
from customers import selectors
from customers.models import Customer

register = template.Library()


@register.simple_tag
def may_merge(user: User | AnonymousUser) -> bool:
    """``{% may_merge user as can_merge %}``"""
    return linking.may_merge(user)


@register.simple_tag
def merge_suggestions(
    customer: Customer, user: User | AnonymousUser
) -> list[selectors.SuggestionRow]:
    """``{% merge_suggestions customer user as suggestions %}``: the other customer's name
    and the evidence, never their messages; only other customers with a case ``user`` sees
    (cases.visibility)."""
    rows = selectors.suggestion_rows(customer=customer)
    visible = visibility.visible_customer_ids(user)
    if visible is None or not rows:
        return rows
    seen = set(
        visible.filter(customer_id__in=[row.other.pk for row in rows]).values_list(
            "customer_id", flat=True
        )
    )
    return [row for row in rows if row.other.pk in seen]
