"""Template tags for the merge controls the case page includes: whether the user may merge,
and the customer's open merge suggestions."""

from django import template
from django.contrib.auth.models import AnonymousUser, User

from casework import linking
from customers import selectors
from customers.models import Customer

register = template.Library()


@register.simple_tag
def may_merge(user: User | AnonymousUser) -> bool:
    """``{% may_merge user as can_merge %}``"""
    return linking.may_merge(user)


@register.simple_tag
def merge_suggestions(customer: Customer) -> list[selectors.SuggestionRow]:
    """``{% merge_suggestions customer as suggestions %}``: the other customer's name and
    the evidence, never their messages."""
    return selectors.suggestion_rows(customer=customer)
