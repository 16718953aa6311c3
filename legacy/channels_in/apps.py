from django.apps import AppConfig


class ChannelsInConfig(AppConfig):
    """The migrations of the former ``channels_in`` app (channel accounts, quarantine)."""

    name = "legacy.channels_in"
    label = "channels_in"
    verbose_name = "Channels (before the re-layout)"
