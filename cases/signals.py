"""What the case record tells apps above it, without knowing them."""

from django.dispatch import Signal

# Sent by ``cases.history`` after it appends events, inside the caller's transaction, with
# ``events``: the ``CaseEvent`` list just written, their case, message and actor in memory.
events_recorded = Signal()
