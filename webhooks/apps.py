from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from cases.signals import events_recorded
        from webhooks import outbox

        events_recorded.connect(outbox.queue_deliveries, dispatch_uid="webhooks.outbox")
