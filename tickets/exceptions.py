class MergeNotAllowed(Exception):
    """Two customers cannot be merged as asked; the message says why and what to do."""


class ReplyNotPossible(Exception):
    """A reply cannot be sent as asked; the message says why and what to do instead."""
