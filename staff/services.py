"""Writes about the people who work cases."""

from django.core.cache import cache
from django.utils import timezone

from staff.models import AgentProfile

# The middleware writes an agent's last_seen_at at most this often.
SEEN_WRITE_SECONDS = 30


def saw_agent(*, user_id: int) -> None:
    """Note that the user is using the workspace now; writes at most every
    ``SEEN_WRITE_SECONDS`` per user (the cache remembers the last write)."""
    if cache.add(f"careinbox:agent-seen:{user_id}", True, timeout=SEEN_WRITE_SECONDS):
        AgentProfile.objects.filter(user_id=user_id).update(last_seen_at=timezone.now())
