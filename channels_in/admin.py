from django.contrib import admin, messages

from channels_in.models import ChannelAccount, QuarantinedPayload
from channels_in.services import discard_quarantined, retry_quarantined


@admin.register(ChannelAccount)
class ChannelAccountAdmin(admin.ModelAdmin):
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
    readonly_fields = ["last_polled_at", "last_success_at", "last_error", "backoff_until"]


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
