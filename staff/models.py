"""The people who work cases: teams and agent profiles."""

from django.conf import settings
from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # New cases go round-robin to the team's online agents under capacity (casework/assignment.py).
    auto_assign = models.BooleanField(
        default=False,
        help_text="Give new cases to the team's online agents in turn, up to each one's capacity.",
    )

    class Meta:
        db_table = "tickets_team"

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    display_name = models.CharField(max_length=100)
    # Appended to short social replies, e.g. "^JL".
    signature = models.CharField(max_length=20, blank=True)
    # Closes email and Facebook replies, e.g. "Best wishes,\nJo Lee\nAcme Home care team".
    sign_off = models.TextField(blank=True)
    teams = models.ManyToManyField(
        Team, blank=True, related_name="agents", db_table="tickets_agentprofile_teams"
    )
    # Auto-assignment (casework/assignment.py): the most cases held at once, a supervisor's
    # pause, when the agent last used the workspace (online while recent), and whose turn it
    # is: the agent with the lowest turn gets the next case, then goes to the back.
    max_active_cases = models.PositiveSmallIntegerField(
        default=8, help_text="Auto-assignment gives no more cases once this many are held."
    )
    assignment_paused = models.BooleanField(
        default=False, help_text="Paused agents get no cases automatically; claiming still works."
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    assignment_turn = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        db_table = "tickets_agentprofile"

    def __str__(self) -> str:
        return self.display_name
