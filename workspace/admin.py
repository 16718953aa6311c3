"""The admin site: every record, for admins; history is read-only."""

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html

from cases.models import Attachment, Case, CaseEvent, Message, SLABreach, SpamBlock, Survey, Tag
from casework.replies import retry_reply
from channels.models import ChannelAccount
from customers.models import Customer, Evidence, Identity, MergeSuggestion
from intake.models import QuarantinedPayload
from intake.services import discard_quarantined, retry_quarantined
from routing.models import RoutingRule, Store
from sla.models import BusinessCalendar, BusinessHours, Holiday, SLAPolicy
from staff.models import AgentProfile, Team
from webhooks.delivery import replay
from webhooks.events import EVENT_NAMES
from webhooks.models import Attempt, Delivery, Endpoint


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(SpamBlock)
class SpamBlockAdmin(admin.ModelAdmin):
    """The spam list: blocked authors ("x:12345", "x:@handle" or "@handle") and domains, whose
    messages ingest marks as spam, and trusted authors, whom its rules never mark."""

    list_display = ["kind", "value", "note", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["value", "note"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "signature"]
    search_fields = ["display_name", "user__username", "user__email"]
    filter_horizontal = ["teams"]


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = (
        "platform",
        "external_id",
        "handle",
        "display_name",
        "follower_count",
    )
    readonly_fields = fields
    can_delete = False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["display_name", "created_at", "merged_into"]
    list_filter = [("merged_into", admin.EmptyFieldListFilter)]
    search_fields = ["display_name", "identities__handle", "identities__external_id"]
    readonly_fields = ["merged_into", "created_at", "privacy"]
    inlines = [IdentityInline]

    @admin.display(description="Privacy requests")
    def privacy(self, customer: Customer) -> str:
        if customer.pk is None:
            return "-"
        return format_html(
            '<a href="{}">Export everything held (JSON)</a> · <a href="{}">Erase…</a>',
            reverse("workspace:customer-export", args=[customer.pk]),
            reverse("workspace:customer-erase", args=[customer.pk]),
        )


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ["__str__", "platform", "display_name", "follower_count", "customer"]
    list_filter = ["platform"]
    search_fields = ["external_id", "handle", "display_name"]
    raw_id_fields = ["customer"]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = (
        "sent_at",
        "direction",
        "channel",
        "author_identity",
        "author_user",
        "text",
    )
    readonly_fields = fields
    can_delete = False
    show_change_link = True


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("occurred_at", "kind", "actor", "message", "data")
    readonly_fields = fields
    ordering = ["occurred_at", "pk"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "customer",
        "status",
        "priority",
        "assignee",
        "team",
        "last_inbound_at",
    ]
    list_filter = ["status", "priority", "team"]
    list_select_related = ["customer", "assignee", "team"]
    search_fields = ["subject", "customer__display_name", "customer__identities__handle"]
    raw_id_fields = ["customer", "assignee", "merged_into"]
    filter_horizontal = ["tags"]
    date_hierarchy = "opened_at"
    inlines = [MessageInline, CaseEventInline]


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ("filename", "content_type", "size", "skipped_reason")
    readonly_fields = fields


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "case",
        "direction",
        "channel",
        "sent_at",
        "delivery_status",
        "delivery_error",
    ]
    list_filter = ["direction", "channel", "delivery_status"]
    list_select_related = ["case"]
    search_fields = ["external_id", "text", "subject"]
    raw_id_fields = ["case", "parent", "author_identity", "author_user", "channel_account"]
    readonly_fields = ["received_at"]
    exclude = ["raw_payload"]
    inlines = [AttachmentInline]
    actions = ["retry_failed_replies"]

    @admin.action(description="Retry failed replies")
    def retry_failed_replies(self, request, queryset):
        failed = list(queryset.filter(delivery_status=Message.Delivery.FAILED))
        for message in failed:
            retry_reply(message_id=message.pk, by=request.user)
        self.message_user(request, f"{len(failed)} failed replies queued again.")


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    """History is append-only: readable here, never editable."""

    list_display = ["occurred_at", "kind", "case", "actor"]
    list_filter = ["kind"]
    list_select_related = ["case", "actor"]
    search_fields = ["case__id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    """What messages said about their senders; written by ingest only."""

    list_display = ["kind", "value", "identity", "message"]
    list_filter = ["kind"]
    list_select_related = ["identity", "message"]
    search_fields = ["value"]
    raw_id_fields = ["message", "identity"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MergeSuggestion)
class MergeSuggestionAdmin(admin.ModelAdmin):
    """Computed by linking; decided through ``confirm_suggestion`` or ``dismiss_suggestion``."""

    list_display = ["__str__", "score", "status", "decided_by", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["decided_by"]
    raw_id_fields = ["customer_a", "customer_b", "decided_by"]
    readonly_fields = ["customer_a", "customer_b", "score", "evidence", "status", "decided_by"]

    def has_add_permission(self, request):
        return False


# Service levels and routing.


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone"]
    search_fields = ["name"]
    inlines = [BusinessHoursInline, HolidayInline]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "team",
        "priority",
        "calendar",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "escalate_to_priority",
        "escalate_to_team",
    ]
    list_filter = ["team", "priority", "calendar"]
    list_select_related = ["team", "calendar", "escalate_to_team"]
    search_fields = ["name"]


@admin.register(SLABreach)
class SLABreachAdmin(admin.ModelAdmin):
    """Written by the breach check only; its history event is on the case."""

    list_display = ["recorded_at", "target", "case", "due_at", "policy"]
    list_filter = ["target", "policy"]
    list_select_related = ["case", "policy"]
    search_fields = ["case__id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    """Sent by ``casework.surveys`` and answered by the customer only."""

    list_display = ["sent_at", "case", "channel", "agent", "team", "answered_at", "score", "nps"]
    list_filter = ["channel", "score", "team"]
    list_select_related = ["case", "agent", "team"]
    search_fields = ["case__id"]
    exclude = ["token"]  # the link's secret

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["city", "name", "aliases", "team"]
    list_filter = ["team"]
    list_select_related = ["team"]
    search_fields = ["city", "name", "aliases"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Also managed, with a preview, at /rules/ in the workspace."""

    list_display = ["name", "position", "enabled", "stop_processing", "updated_at"]
    list_editable = ["position", "enabled"]
    list_filter = ["enabled"]
    search_fields = ["name", "keywords", "pattern"]


class ChannelAccountForm(forms.ModelForm):
    """Credentials are written, never read back: the page names the ones that are set, and
    a JSON object in "Set credentials" adds or replaces them (an empty value removes one)."""

    set_credentials = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text='For example {"bearer_token": "…"}. Only the names given change.',
    )

    class Meta:
        model = ChannelAccount
        fields = [
            "platform",
            "name",
            "settings",
            "enabled",
            "poll_interval_seconds",
            "poll_cursors",
            "poll_failures",
        ]

    def clean_set_credentials(self) -> dict[str, str]:
        given = self.cleaned_data["set_credentials"] or {}
        if not isinstance(given, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in given.items()
        ):
            raise forms.ValidationError('Give a JSON object of names and texts: {"name": "…"}.')
        return given

    def save(self, commit: bool = True) -> ChannelAccount:
        account = super().save(commit=False)
        credentials = dict(account.credentials or {})
        for name, value in self.cleaned_data["set_credentials"].items():
            if value:
                credentials[name] = value
            else:
                credentials.pop(name, None)
        account.credentials = credentials
        if commit:
            account.save()
        return account


@admin.register(ChannelAccount)
class ChannelAccountAdmin(admin.ModelAdmin):
    form = ChannelAccountForm
    list_display = [
        "name",
        "platform",
        "enabled",
        "last_success_at",
        "last_error",
        "backoff_until",
    ]
    list_filter = ["platform", "enabled"]
    search_fields = ["name"]
    readonly_fields = [
        "credentials_set",
        "last_polled_at",
        "last_success_at",
        "last_error",
        "backoff_until",
    ]

    @admin.display(description="Credentials")
    def credentials_set(self, account: ChannelAccount) -> str:
        names = sorted(account.credentials or {})
        return ", ".join(f"{name}: set" for name in names) or "none set"


@admin.register(QuarantinedPayload)
class QuarantinedPayloadAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "source",
        "channel_account",
        "status",
        "error",
        "attempts",
        "last_seen_at",
    ]
    list_filter = ["status", "source", "channel_account"]
    search_fields = ["error", "sha256"]
    readonly_fields = [
        "source",
        "channel_account",
        "sha256",
        "error",
        "status",
        "first_seen_at",
        "last_seen_at",
        "attempts",
        "payload_text",
    ]
    exclude = ["raw_payload"]
    actions = ["retry", "discard"]

    @admin.display(description="Payload")
    def payload_text(self, obj: QuarantinedPayload) -> str:
        return bytes(obj.raw_payload).decode("utf-8", errors="replace")

    def has_add_permission(self, request):
        return False

    @admin.action(description="Retry: normalise and ingest again")
    def retry(self, request, queryset):
        ingested = sum(retry_quarantined(item=item) for item in queryset)
        failed = queryset.count() - ingested
        self.message_user(
            request,
            f"{ingested} ingested, {failed} still failing.",
            messages.SUCCESS if not failed else messages.WARNING,
        )

    @admin.action(description="Discard (kept for audit, never ingested)")
    def discard(self, request, queryset):
        for item in queryset:
            discard_quarantined(item=item)
        self.message_user(request, f"{queryset.count()} discarded.")


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[(name, name) for name in EVENT_NAMES],
        widget=forms.CheckboxSelectMultiple,
        help_text="The events sent to this URL.",
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "events", "active"]


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    """Where case events are sent. The secret is made when the endpoint is saved; the
    receiver checks each body's signature with it (README.md, "Webhooks")."""

    form = EndpointForm
    list_display = ["url", "event_list", "active"]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret", "created_at"]

    @admin.display(description="Events")
    def event_list(self, endpoint: Endpoint) -> str:
        return ", ".join(endpoint.events)


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    fields = ("at", "status_code", "duration_ms", "error")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, with every attempt; replaying sends a delivery again."""

    list_display = ["created_at", "endpoint", "event", "status", "attempts", "last_status_code"]
    ordering = ["-created_at"]
    list_filter = ["status", "event", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["=case_id"]
    fields = (
        "id",
        "endpoint",
        "event",
        "case_id",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "payload",
    )
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["replay_deliveries"]

    def get_queryset(self, request):
        last_attempt = Attempt.objects.filter(delivery=OuterRef("pk")).order_by("-at", "-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(last_status_code=Subquery(last_attempt.values("status_code")[:1]))
        )

    @admin.display(description="Last status code")
    def last_status_code(self, delivery: Delivery) -> int | None:
        return getattr(delivery, "last_status_code", None)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The list's replay action needs it; a delivery itself is never edited.
        return obj is None and super().has_change_permission(request)

    @admin.action(description="Replay selected deliveries", permissions=["change"])
    def replay_deliveries(self, request, queryset):
        replayed = replay(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{replayed} deliveries will be sent again shortly.")
