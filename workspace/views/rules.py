"""Routing rules, managed by admins: list, create, edit, reorder, enable and disable, and
"test this rule against recent messages" before saving (``routing.rules``)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casework import routing
from routing import rules
from routing.models import RoutingRule
from workspace.views.access import rules_admin_required

CONDITION_FIELDS = [
    "channel_account",
    "platform",
    "keywords",
    "pattern",
    "language",
    "sentiment",
    "closing_thanks",
    "names_store",
]
ACTION_FIELDS = ["set_team", "team_from_store", "set_priority", "add_tags", "mark_no_reply"]


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ["name", "enabled", "stop_processing", *CONDITION_FIELDS, *ACTION_FIELDS]
        # Each condition and action reads as the end of "When a message…" or "Then…".
        labels = {
            "name": "Name",
            "enabled": "Enabled: run this rule on every new customer message",
            "stop_processing": "Stop here: later rules are not looked at when this one matches",
            "channel_account": "arrives on the account",
            "platform": "arrives on",
            "keywords": "mentions any of",
            "pattern": "matches the pattern",
            "language": "is written in",
            "sentiment": "has the sentiment",
            "closing_thanks": "only thanks us or says all is well",
            "names_store": "names a store",
            "set_team": "send the case to the team",
            "team_from_store": "send the case to the named store's team",
            "set_priority": "raise the priority to",
            "add_tags": "add the tags",
            "mark_no_reply": "mark the message as needing no reply",
        }
        help_texts = {
            "name": "Each case's history names the rules that applied to it.",
            "stop_processing": "",
            "channel_account": "One of the brand's connected accounts; blank for any.",
            "platform": "X, Facebook or email; blank for any.",
            "keywords": "Comma-separated words or phrases, as whole words; "
            "e.g. refund, money back.",
            "language": "As detected when the message arrived; blank for any.",
            "closing_thanks": "It asks nothing, so it may need no reply.",
            "names_store": "A store of the store list, by its name or one of its other names.",
            "set_team": "Only a case without a team yet; a later rule's team wins.",
            "team_from_store": "Needs “names a store” above.",
            "set_priority": "Only ever raised, never lowered.",
            "add_tags": "Comma-separated; tags of every matching rule add up.",
            "mark_no_reply": "It stays on the case, marked with the reason, and starts no clock.",
        }
        error_messages = {
            "name": {
                "required": "Give the rule a name; history events name the rules that applied.",
                "unique": "A rule with this name exists; choose another name or edit that one.",
            },
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not any(cleaned.get(name) for name in ACTION_FIELDS):
            raise forms.ValidationError(
                "Choose at least one action: a team, the named store's team, a priority, "
                "tags, or “needs no reply”."
            )
        if cleaned.get("team_from_store") and not cleaned.get("names_store"):
            self.add_error(
                "names_store",
                "“Send to the store's team” needs this condition: tick “names a store”.",
            )
        return cleaned


def _last(request: HttpRequest) -> int:
    value = request.POST.get("last") or request.GET.get("last") or ""
    return int(value) if value.isdigit() and len(value) < 6 else routing.PREVIEW_MESSAGES


@require_GET
@rules_admin_required
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = RoutingRule.objects.select_related("set_team", "channel_account").order_by(
        "position", "pk"
    )
    return render(request, "workspace/rules_list.html", {"rules": rules})


@require_http_methods(["GET", "POST"])
@rules_admin_required
def rule_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, RoutingRule())


@require_http_methods(["GET", "POST"])
@rules_admin_required
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    return _edit(request, get_object_or_404(RoutingRule, pk=rule_id))


def _edit(request: HttpRequest, rule: RoutingRule) -> HttpResponse:
    """Save the form, or with ``action=preview`` (or ``?preview`` for the saved rule) show
    which recent messages the rule as written matches, without saving."""
    creating = rule.pk is None
    form = RoutingRuleForm(request.POST or None, instance=rule)
    previewing = request.POST.get("action") == "preview" or (
        request.method == "GET" and "preview" in request.GET and not creating
    )
    result = None
    if request.method == "POST" and form.is_valid() and not previewing:
        try:
            saved = rules.save_rule(rule=form.save(commit=False))
        except IntegrityError:
            # Another admin saved the same name a moment ago.
            form.add_error("name", "A rule with this name was just saved; choose another.")
        else:
            messages.success(request, f"{'Created' if creating else 'Saved'} “{saved.name}”.")
            return redirect("workspace:rule-list")
    elif previewing and (request.method == "GET" or form.is_valid()):
        looked_at, rows = routing.preview(form.instance, last=_last(request))
        result = {"looked_at": looked_at, "rows": rows}
    context = {
        "form": form,
        "condition_fields": [form[name] for name in CONDITION_FIELDS],
        "action_fields": [form[name] for name in ACTION_FIELDS],
        "rule": rule,
        "creating": creating,
        "preview": result,
        "last": _last(request),
    }
    return render(
        request, "workspace/rules_form.html", context, status=400 if form.errors else 200
    )


@require_POST
@rules_admin_required
def rule_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Move a rule one place up (``direction=up``) or down."""
    try:
        rules.move_rule(rule_id=rule_id, up=request.POST.get("direction") == "up")
    except RoutingRule.DoesNotExist:
        raise Http404(f"There is no routing rule {rule_id}.") from None
    return redirect("workspace:rule-list")


@require_POST
@rules_admin_required
def rule_enable(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Enable (``enabled=1``) or disable a rule; a disabled rule is kept but never runs."""
    try:
        rule = rules.set_rule_enabled(rule_id=rule_id, enabled=request.POST.get("enabled") == "1")
    except RoutingRule.DoesNotExist:
        raise Http404(f"There is no routing rule {rule_id}.") from None
    messages.success(request, f"{'Enabled' if rule.enabled else 'Disabled'} “{rule.name}”.")
    return redirect("workspace:rule-list")


urlpatterns = [
    path("rules/", rule_list, name="rule-list"),
    path("rules/new/", rule_new, name="rule-new"),
    path("rules/<int:rule_id>/", rule_edit, name="rule-edit"),
    path("rules/<int:rule_id>/move/", rule_move, name="rule-move"),
    path("rules/<int:rule_id>/enable/", rule_enable, name="rule-enable"),
]
