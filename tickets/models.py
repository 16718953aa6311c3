"""The shared case record: customers, their platform identities, cases, messages and history."""

import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class Platform(models.TextChoices):
    X = "x", "X"
    FACEBOOK = "facebook", "Facebook"
    EMAIL = "email", "Email"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # New cases go round-robin to the team's online agents under capacity (tickets/assignment.py).
    auto_assign = models.BooleanField(
        default=False,
        help_text="Give new cases to the team's online agents in turn, up to each one's capacity.",
    )

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
    teams = models.ManyToManyField(Team, blank=True, related_name="agents")
    # Auto-assignment (tickets/assignment.py): the most cases held at once, a supervisor's
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

    def __str__(self) -> str:
        return self.display_name


class Customer(models.Model):
    """One real person or organisation, however many platform identities they use."""

    display_name = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when this customer was merged into another: a tombstone kept for history.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )

    def __str__(self) -> str:
        return self.display_name


class Identity(models.Model):
    """How a customer appears on one platform."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="identities")
    platform = models.CharField(max_length=16, choices=Platform)
    # X user id, Facebook user id, or the lower-cased email address.
    external_id = models.CharField(max_length=320)
    handle = models.CharField(max_length=100, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    follower_count = models.PositiveIntegerField(null=True, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Platform time of the newest message seen from this identity; its profile is shown.
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="identity_unique_platform_external_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.handle or self.external_id}"


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    """The shared record of one customer's conversation with the brand, across channels."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        PENDING = "pending", "Pending on customer"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=16, choices=Status, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    priority = models.CharField(max_length=16, choices=Priority, default=Priority.NORMAL)
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases")
    subject = models.CharField(max_length=300, blank=True)
    # Set on a case folded into another by a customer merge; it is then closed.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    # Spam stays stored and visible in the Spam queue; it leaves every other queue.
    spam = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    # Platform times of the customer's messages, so they do not depend on arrival order.
    opened_at = models.DateTimeField()
    first_inbound_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    first_response_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Service level (tickets/sla.py): the policy the due times follow, and the platform time
    # of the oldest customer message still waiting for a reply (None once answered, or when
    # nothing the customer wrote needs one).
    sla_policy = models.ForeignKey(
        "SLAPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The roles (tickets/roles.py) are groups holding these.
        permissions = [
            ("work_case", "Can claim, reply to, note and hand off cases"),
            ("reassign_case", "Can reassign anyone's cases and see every team's queue"),
            ("merge_customer", "Can merge customers"),
            ("view_dashboards", "Can view the dashboards"),
        ]
        constraints = [
            # Ingest relies on one active case per customer; two racing ingests cannot both
            # open one.
            models.UniqueConstraint(
                fields=["customer"],
                condition=~Q(status="closed"),
                name="case_one_active_per_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "last_inbound_at"], name="case_status_last_inbound"),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status != self.Status.CLOSED


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"
        NOTE = "note", "Internal note"

    class Delivery(models.TextChoices):
        QUEUED = "queued", "Queued"
        # Handed to the platform; if the worker died here, the platform may have it already.
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=16, choices=Direction)
    channel_account = models.ForeignKey(
        "channels_in.ChannelAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
    )
    # The platform's kind of message, e.g. "x.mention", "facebook.comment", "email".
    channel = models.CharField(max_length=32, blank=True)
    # NULL, not "", for notes and unsent replies: NULLs never collide in the unique key below.
    external_id = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001
    # Threading: the external id this message answers, and the stored message it points to
    # (which may belong to another customer's case, e.g. a bystander's reply).
    in_reply_to_external_id = models.CharField(max_length=500, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    author_identity = models.ForeignKey(
        Identity, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
    )
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Sanitised HTML (email).")
    # "auto-reply" or "bounce": sent by a machine, shown but never reopening a case.
    automated = models.CharField(max_length=16, blank=True)
    # A customer message a routing rule found needs no answer (a closing "thanks!"): still
    # shown, with the reason, but it starts no response clock and reopens nothing.
    needs_reply = models.BooleanField(default=True)
    no_reply_reason = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(help_text="When the platform says it was sent.")
    received_at = models.DateTimeField(auto_now_add=True)
    raw_payload = models.BinaryField(blank=True, default=b"")

    delivery_status = models.CharField(max_length=16, choices=Delivery, blank=True)
    delivery_error = models.TextField(blank=True)
    delivery_attempts = models.PositiveIntegerField(default=0)
    # When a queued reply is next tried; for one being sent, when to presume its worker dead.
    delivery_next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            # A message delivered twice (poll and webhook, a retried page) is stored once.
            models.UniqueConstraint(
                fields=["channel_account", "external_id"], name="message_unique_external_id"
            ),
        ]
        indexes = [
            models.Index(fields=["case", "sent_at"], name="message_case_sent_at"),
            # Ingest links replies that arrived before their parent; only those are indexed.
            models.Index(
                fields=["channel_account", "in_reply_to_external_id"],
                condition=Q(parent__isnull=True) & ~Q(in_reply_to_external_id=""),
                name="message_orphan_replies",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.channel} {self.external_id or self.pk}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    # Stored with the message, in the same transaction; empty when skipped.
    content = models.BinaryField(blank=True, default=b"")
    skipped_reason = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.filename


class CaseEvent(models.Model):
    """An append-only history line. The case timeline and every report are built from these."""

    class Kind(models.TextChoices):
        CREATED = "created", "Case created"
        MESSAGE_RECEIVED = "message_received", "Message received"
        REPLY_SENT = "reply_sent", "Reply sent"
        NOTE_ADDED = "note_added", "Note added"
        CLAIMED = "claimed", "Claimed"
        RELEASED = "released", "Released"
        HANDED_OFF = "handed_off", "Handed off"
        REASSIGNED = "reassigned", "Reassigned"
        STATUS_CHANGED = "status_changed", "Status changed"
        PRIORITY_CHANGED = "priority_changed", "Priority changed"
        TAGS_CHANGED = "tags_changed", "Tags changed"
        CUSTOMERS_MERGED = "customers_merged", "Customers merged"
        SLA_BREACHED = "sla_breached", "SLA breached"
        MARKED_SPAM = "marked_spam", "Marked as spam"
        UNMARKED_SPAM = "unmarked_spam", "Marked as not spam"
        ROUTED = "routed", "Routed by rules"
        AUTO_ASSIGNED = "auto_assigned", "Assigned automatically"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind)
    # When it happened: the platform's time for a customer's message, the clock otherwise.
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case_events",
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["case", "occurred_at"], name="caseevent_case_occurred_at"),
            models.Index(fields=["kind", "occurred_at"], name="caseevent_kind_occurred_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case {self.case_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(f"Case event {self.pk} is history and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"Case event {self.pk} is history and cannot be deleted.")


class Evidence(models.Model):
    """Something a message says about its sender (``tickets/evidence.py``): an address, a
    handle, a reference, a phone number, a postcode or the sender's name. The customer is the
    author identity's, so it follows merges."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="evidence")
    identity = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=16)
    value = models.CharField(max_length=320)

    class Meta:
        verbose_name_plural = "evidence"
        constraints = [
            models.UniqueConstraint(
                fields=["message", "kind", "value"], name="evidence_unique_per_message"
            ),
        ]
        indexes = [
            # Linking looks up every customer who gave the same address, reference or phone.
            models.Index(fields=["kind", "value"], name="evidence_kind_value"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class MergeSuggestion(models.Model):
    """Two customers who may be one person, with the evidence, for an agent to decide."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"
        MERGED = "merged", "Merged"

    customer_a = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    score = models.FloatField()
    # [{"kind": "reference", "value": "AH-20931-UK"}, ...], strongest first.
    evidence = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One row per pair, whatever the order found: a dismissal is never undone by a
            # later computation that finds the pair the other way round.
            models.CheckConstraint(
                condition=Q(customer_a__lt=models.F("customer_b")),
                name="mergesuggestion_ordered_pair",
            ),
            models.UniqueConstraint(
                fields=["customer_a", "customer_b"], name="mergesuggestion_unique_pair"
            ),
        ]
        indexes = [
            models.Index(fields=["customer_b", "status"], name="mergesuggestion_b_status"),
        ]

    def __str__(self) -> str:
        return f"Customers {self.customer_a_id} and {self.customer_b_id} ({self.status})"


class CannedResponse(models.Model):
    """A reply template. Placeholders such as ``{first_name}`` and ``{agent_name}`` are filled
    in (``tickets.actions.render_canned``) and the agent edits the text before sending."""

    title = models.CharField(max_length=100, unique=True)
    text = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """An in-app notice for one user: a hand-off to them, an @mention, a new message on their
    case."""

    class Kind(models.TextChoices):
        HANDED_OFF = "handed_off", "Handed off to you"
        MENTIONED = "mentioned", "Mentioned you"
        NEW_MESSAGE = "new_message", "New message on your case"
        SLA_BREACHED = "sla_breached", "SLA breached"
        ASSIGNED = "assigned", "Assigned to you"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The bell counts a user's unread notices on every page.
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: case {self.case_id}"


# Service levels, routing and auto-assignment (tickets/sla.py, routing.py, assignment.py).


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not a time zone; use an IANA name such as Europe/London."
        ) from None


def validate_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(f"This is not a valid regular expression: {exc}.") from None


class BusinessCalendar(models.Model):
    """Opening hours in one time zone, with holidays. SLA clocks on it run only while open."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )

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
        max_length=16, choices=Case.Priority, blank=True, help_text="Empty: every priority."
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
    escalate_to_priority = models.CharField(max_length=16, choices=Case.Priority, blank=True)
    escalate_to_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
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


class SLABreach(models.Model):
    """A target a case missed. The unique key is what makes the breach check idempotent:
    each run of a case's clock breaches a target at most once, however many workers look."""

    class Target(models.TextChoices):
        FIRST_RESPONSE = "first_response", "First response"
        NEXT_RESPONSE = "next_response", "Next response"
        RESOLUTION = "resolution", "Resolution"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="sla_breaches")
    target = models.CharField(max_length=16, choices=Target)
    # When the missed clock started: the oldest unanswered customer message for a response,
    # the first customer message for the resolution.
    clock_started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    policy = models.ForeignKey(
        SLAPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="breaches"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "SLA breach"
        verbose_name_plural = "SLA breaches"
        constraints = [
            models.UniqueConstraint(
                fields=["case", "target", "clock_started_at"], name="slabreach_once_per_clock"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_display()} breached on case {self.case_id}"


class Store(models.Model):
    """A shop customers may name ("the Leeds White Rose store"); a routing rule can send the
    messages that name it to its team."""

    name = models.CharField(max_length=100, help_text="As customers say it, e.g. White Rose.")
    city = models.CharField(max_length=100)
    aliases = models.CharField(
        max_length=300, blank=True, help_text="Other names, comma-separated, e.g. Crown Point."
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="stores"
    )

    class Meta:
        ordering = ["city", "name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "name"], name="store_unique_city_name"),
        ]

    def __str__(self) -> str:
        return f"{self.city} {self.name}"


class Language(models.TextChoices):
    """What ``tickets.routing.detect_language`` can tell apart."""

    ENGLISH = "en", "English"
    FRENCH = "fr", "French"
    GERMAN = "de", "German"
    SPANISH = "es", "Spanish"
    ITALIAN = "it", "Italian"
    DUTCH = "nl", "Dutch"
    PORTUGUESE = "pt", "Portuguese"
    ARABIC = "ar", "Arabic"
    RUSSIAN = "ru", "Russian"
    JAPANESE = "ja", "Japanese"
    KOREAN = "ko", "Korean"
    CHINESE = "zh", "Chinese"


class RoutingRule(models.Model):
    """Conditions on an incoming customer message and what to do when they all hold.

    Enabled rules run in ``position`` order on every customer message at ingest; every rule
    that matches applies (a later team or priority wins over an earlier one, tags add up)
    until one that says ``stop_processing``. An empty condition matches every message.
    """

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    stop_processing = models.BooleanField(
        default=False, help_text="When this rule matches, later rules are not looked at."
    )

    # Conditions.
    channel_account = models.ForeignKey(
        "channels_in.ChannelAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="routing_rules",
    )
    platform = models.CharField(max_length=16, choices=Platform, blank=True)
    keywords = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated words or phrases: any one of them, as whole words.",
    )
    pattern = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_regex],
        help_text="A Python regular expression searched in the text, ignoring case.",
    )
    language = models.CharField(max_length=8, choices=Language, blank=True)
    closing_thanks = models.BooleanField(
        default=False,
        help_text="The message only thanks us or says all is well, and asks nothing.",
    )
    names_store = models.BooleanField(
        default=False, help_text="The message names a store of the store list."
    )

    # Actions.
    set_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    team_from_store = models.BooleanField(
        default=False, help_text="Send the case to the team of the store the message names."
    )
    set_priority = models.CharField(max_length=16, choices=Case.Priority, blank=True)
    add_tags = models.CharField(max_length=300, blank=True, help_text="Comma-separated.")
    mark_no_reply = models.BooleanField(
        default=False,
        help_text="The message needs no reply: it stays shown, marked, and starts no clock.",
    )

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name
