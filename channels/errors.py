"""What can go wrong between a platform and a case."""

from datetime import datetime


class MalformedPayload(Exception):
    """The payload is not what the platform sends: broken JSON, a missing field, a bad value."""


class UnsupportedEvent(Exception):
    """A well-formed payload of a kind CareInbox does not handle."""


class FetchError(Exception):
    """Reading from a platform failed in a way that may pass (5xx, timeout, broken answer).

    The poll stops, keeps its cursor, and the account backs off before trying again.
    """


class RateLimited(FetchError):
    """The platform asked us to wait; ``retry_at`` is when it says we may call again."""

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class TransientSendError(Exception):
    """Sending a reply failed in a way that may pass; the send task retries it."""


class SendRateLimited(TransientSendError):
    """The platform asked us to wait before sending; ``retry_at`` is when it says we may."""

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class PermanentSendError(Exception):
    """The platform refused the reply for good (e.g. the messaging window closed); no retry."""
