"""Service levels: business calendars with their hours and holidays, and SLA policies."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from staff.models import Team


class Priority(models.TextChoices):
    """A case's priority (``cases.Priority``), which SLA policies set targets for."""

    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not a time zone; use an IANA name such as Europe/London."
        ) from None


class BusinessCalendar(models.Model):
    """Opening hours in one time zone, with holidays. SLA clocks on it run only while open."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )

    class Meta:
        db_table = "tickets_businesscalendar"

    def __str__(self) -> str:
        return self.name


class BusinessHours(models.Model):
    """One opening period on one weekday, in the calendar's local time."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday)
    opens = models.TimeField()
    # At or before ``opens``, the period runs past midnight into the next day (a night
    # shift); 00:00 to 00:00 is the whole day.
    closes = models.TimeField(help_text="At or before the opening time: closes the next day.")

    class Meta:
        db_table = "tickets_businesshours"
        verbose_name_plural = "business hours"
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="businesshours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M} to {self.closes:%H:%M}"


class Holiday(models.Model):
    """A local day the calendar is closed all day."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        db_table = "tickets_holiday"
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class SLAPolicy(models.Model):
    """Response and resolution targets for the cases of one priority (and optionally one
    team), counted in business minutes of a calendar, or around the clock without one.

    A case follows the most specific policy: its team and priority, its team, its priority,
    then the policy for every case. The channel and the customer's followers never matter.
    """

    name = models.CharField(max_length=100, unique=True)
    priority = models.CharField(
        max_length=16, choices=Priority, blank=True, help_text="Empty: every priority."
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        help_text="Empty: every team, and cases without one.",
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text="Empty: the clock runs around the clock.",
    )
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    # On a breach: raise the case to this priority (never lower it) and/or move it to a team.
    escalate_to_priority = models.CharField(max_length=16, choices=Priority, blank=True)
    escalate_to_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "tickets_slapolicy"
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            # One policy per (team, priority), "every team" and "every priority" included.
            models.UniqueConstraint(
                fields=["team", "priority"],
                condition=Q(team__isnull=False),
                name="slapolicy_unique_team_priority",
            ),
            models.UniqueConstraint(
                fields=["priority"],
                condition=Q(team__isnull=True),
                name="slapolicy_unique_priority",
            ),
        ]

    def __str__(self) -> str:
        return self.name
