"""What can go wrong between a platform and a case."""


class MalformedPayload(Exception):
    """The payload is not what the platform sends: broken JSON, a missing field, a bad value."""


class UnsupportedEvent(Exception):
    """A well-formed payload of a kind CareInbox does not handle."""
