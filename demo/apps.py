from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The platform sandbox, the sample traffic and the simulated agents: development only."""

    name = "demo"
    verbose_name = "Demo"

    def ready(self) -> None:
        from channels.plug import Source
        from demo import sample
        from intake.services import register_source

        # Quarantined sample payloads are retried through the sample loader's normaliser.
        register_source("sample", Source(normalise=sample.normalise, accounts=sample.accounts))
