class MergeNotAllowed(Exception):
    """Two customers cannot be merged as asked; the message says why and what to do."""


class ReplyNotPossible(Exception):
    """A reply cannot be sent as asked; the message says why and what to do instead."""


class MergeNotPermitted(Exception):
    """The user may not merge customers; a supervisor must (``CAREINBOX_AGENTS_MAY_MERGE``)."""


class SuggestionClosed(Exception):
    """The suggestion was already dismissed or merged; nothing is left to decide."""
