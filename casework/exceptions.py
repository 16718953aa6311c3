class MergeNotAllowed(Exception):
    """Two customers cannot be merged as asked; the message says why and what to do."""


class ReplyNotPossible(Exception):
    """A reply cannot be sent as asked; the message says why and what to do instead."""


class MergeNotPermitted(Exception):
    """The user may not merge customers; a supervisor must (``CAREINBOX_AGENTS_MAY_MERGE``)."""


class SuggestionClosed(Exception):
    """The suggestion was already dismissed or merged; nothing is left to decide."""


class CaseTaken(Exception):
    """Someone else holds the case: it was claimed, handed off or reassigned meanwhile. The
    message names them."""


class ActionNotAllowed(Exception):
    """The user may not do this to this case; the message says why."""
