class MergeNotAllowed(Exception):
    """Two customers cannot be merged as asked; the message says why and what to do."""
