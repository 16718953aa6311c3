"""The shared case record: cases, their messages and attachments, the append-only history,
tags, canned responses and SLA breaches."""

from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Least, NullIf

from channels.models import ChannelAccount
from customers.models import Customer, Identity
from sla.models import Priority, SLAPolicy
from staff.models import Team

# The case's due times (``cases.clocks``), and what stands for "none" while taking the
# soonest of them: SQLite's ``min`` of several values is NULL when any is.
DUE_FIELDS = ("first_response_due_at", "next_response_due_at", "resolution_due_at")
# Replies stored before the message they answer: the rows the ``message_orphan_replies``
# index holds. A query must name this condition itself for PostgreSQL to read that index when
# its list of ids is long (over 100, PostgreSQL does not look inside the list for the proof).
ORPHAN_REPLIES = Q(parent__isnull=True) & ~Q(in_reply_to_external_id="")
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        db_table = "tickets_tag"

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

    Priority = Priority

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
    tags = models.ManyToManyField(
        Tag, blank=True, related_name="cases", db_table="tickets_case_tags"
    )
    subject = models.CharField(max_length=300, blank=True)
    # Set on a case folded into another by a customer merge; it is then closed.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        db_index=False,  # case_merged_into
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

    # Indexed among the live cases only (case_live_*): every query by them is about those.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # Service level (cases/clocks.py): the policy the due times follow, and the platform time
    # of the oldest customer message still waiting for a reply (None once answered, or when
    # nothing the customer wrote needs one).
    sla_policy = models.ForeignKey(
        SLAPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)
    # The soonest of the three due times, computed by the database from them whatever writes
    # them: "SLA at risk" counts the live cases due soon from one index of it.
    soonest_due_at = models.GeneratedField(
        expression=NullIf(
            Least(*(Coalesce(due, Value(NEVER)) for due in DUE_FIELDS)), Value(NEVER)
        ),
        output_field=models.DateTimeField(null=True),
        db_persist=True,
    )
    # The channel of its earliest customer message, as its roll-up (CaseRollup) holds it:
    # named by ingest for a new case, kept by ``cases.rollup.refresh``. The backlog counts
    # each channel's waiting cases from the ``case_backlog`` index alone instead of joining
    # every roll-up.
    first_channel = models.CharField(max_length=32, null=True, editable=False)  # noqa: DJ001

    class Meta:
        db_table = "tickets_case"
        # The roles (staff/roles.py) are groups holding these.
        permissions = [
            ("work_case", "Can claim, reply to, note and hand off cases"),
            ("reassign_case", "Can reassign the cases they see"),
            ("merge_customer", "Can merge customers"),
            ("view_dashboards", "Can view the dashboards"),
            ("see_all_teams", "Can see every team's cases (admins)"),
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
            # "SLA at risk" counts the live cases due soon, visible to the viewer, from this
            # index alone.
            models.Index(
                fields=["soonest_due_at"],
                include=["team", "assignee"],
                condition=Q(merged_into__isnull=True, spam=False, soonest_due_at__isnull=False)
                & ~Q(status="closed"),
                name="case_live_soonest_due",
            ),
            # The breach check reads each target's live cases due, by its due time.
            *(
                models.Index(
                    fields=[due],
                    condition=Q(merged_into__isnull=True, spam=False, **{f"{due}__isnull": False})
                    & ~Q(status="closed"),
                    name=f"case_live_{due.removesuffix('_at')}",
                )
                for due in ("first_response_due_at", "next_response_due_at", "resolution_due_at")
            ),
            # The backlog dashboard groups the live waiting cases (reporting.backlog) by
            # status, team, channel and age, and the agents dashboard by assignee, within what
            # the viewer sees (team, assignee): read from this index alone.
            models.Index(
                fields=["status", "team", "opened_at", "assignee", "first_channel", "id"],
                condition=Q(
                    merged_into__isnull=True, spam=False, status__in=["new", "open", "pending"]
                ),
                name="case_backlog",
            ),
            # The cases every figure counts, with what the viewer's visibility reads: the
            # dashboards' ranges of history and roll-ups join them from this index alone.
            models.Index(
                fields=["id", "team", "assignee"],
                condition=Q(merged_into__isnull=True, spam=False),
                name="case_counted",
            ),
            # The few cases folded into another, found by the case they went into.
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="case_merged_into",
            ),
            # The few cases no figure counts (spam, folded by a merge): the agents dashboard
            # leaves them out of its roll-up (AgentActivity) by this short list of ids.
            models.Index(
                fields=["id"],
                condition=Q(spam=True) | Q(merged_into__isnull=False),
                name="case_not_counted",
            ),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status != self.Status.CLOSED


class Sentiment(models.TextChoices):
    NEGATIVE = "neg", "Negative"
    NEUTRAL = "neu", "Neutral"
    POSITIVE = "pos", "Positive"


class Message(models.Model):
    Sentiment = Sentiment

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

    # Indexed first in message_case_sent_at (and the account in the unique key below): an
    # index of their own would only slow the writing of messages down.
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    direction = models.CharField(max_length=16, choices=Direction)
    channel_account = models.ForeignKey(
        ChannelAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,
    )
    # The platform's kind of message, e.g. "x.mention", "facebook.comment", "email".
    channel = models.CharField(max_length=32, blank=True)
    # NULL, not "", for notes and unsent replies: NULLs never collide in the unique key below.
    external_id = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001
    # Threading: the external id this message answers, and the stored message it points to
    # (which may belong to another customer's case, e.g. a bystander's reply).
    in_reply_to_external_id = models.CharField(max_length=500, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
        db_index=False,  # message_parent
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
        db_index=False,  # message_author_user
    )
    text = models.TextField(blank=True)
    # The whole text when ``text`` was cut at CAREINBOX_MESSAGE_TEXT_LIMIT, else "". Kept
    # as read, since the raw payload gives it back only through the normaliser again.
    full_text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Sanitised HTML (email).")
    # "auto-reply" or "bounce": a customer's message sent by a machine, shown but never
    # reopening a case. "survey": our satisfaction survey (``cases.Survey``), not an agent's
    # reply: it counts in no response time.
    automated = models.CharField(max_length=16, blank=True)
    # A customer message a routing rule found needs no answer (a closing "thanks!"): still
    # shown, with the reason, but it starts no response clock and reopens nothing.
    needs_reply = models.BooleanField(default=True)
    no_reply_reason = models.CharField(max_length=300, blank=True)
    # What ingest's care stages found in a customer message (``casework.care``): why it is
    # spam or a bot's ("" when it is not), its sentiment ("neg", "neu", "pos"; "" when not
    # scored), and whom it praises (a user, store or team, as text; "" for none).
    spam_reason = models.CharField(max_length=300, blank=True)
    # A customer message's words as the spam rules compare them, hashed (``casework.spam``), so
    # ingest finds the same text from other authors without reading everyone's messages; ""
    # for a text too short to compare.
    text_fingerprint = models.CharField(max_length=32, blank=True)
    # The same words, space-separated, so that ingest compares a stored message with a new
    # one without reading and normalising its text again; null for a message stored before
    # they were kept (its text is read instead).
    text_words = models.TextField(blank=True, null=True)  # noqa: DJ001 (null: not kept)
    sentiment = models.CharField(max_length=3, choices=Sentiment, blank=True)
    praise_for = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    # What a customer message answers, as the platform gave it along (a Facebook comment's
    # post text), shown above it on the timeline; "" when none came with it.
    context = models.TextField(blank=True)
    # An outbound email's Cc addresses, in the order the agent wrote them.
    cc = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(help_text="When the platform says it was sent.")
    received_at = models.DateTimeField(auto_now_add=True)
    raw_payload = models.BinaryField(blank=True, default=b"")

    delivery_status = models.CharField(max_length=16, choices=Delivery, blank=True)
    delivery_error = models.TextField(blank=True)
    delivery_attempts = models.PositiveIntegerField(default=0)
    # When a queued reply is next tried; for one being sent, when to presume its worker dead.
    delivery_next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "tickets_message"
        constraints = [
            # A message delivered twice (poll and webhook, a retried page) is stored once.
            models.UniqueConstraint(
                fields=["channel_account", "external_id"], name="message_unique_external_id"
            ),
        ]
        indexes = [
            models.Index(fields=["case", "sent_at"], name="message_case_sent_at"),
            # Not partial: a long IN list of fingerprints could not use a partial index.
            models.Index(fields=["text_fingerprint", "sent_at"], name="message_text_fingerprint"),
            # Ingest links replies that arrived before their parent; only those are indexed.
            models.Index(
                fields=["channel_account", "in_reply_to_external_id"],
                condition=ORPHAN_REPLIES,
                name="message_orphan_replies",
            ),
            # Columns empty on most messages (a customer's message has no parent stored yet,
            # no author among the staff, no delivery to retry) index only the rows that have
            # them: every message stored would otherwise write an entry for nothing in each.
            *(
                models.Index(fields=[field], condition=Q(**{f"{field}__isnull": False}), name=name)
                for field, name in [
                    ("parent", "message_parent"),
                    ("author_user", "message_author_user"),
                    ("delivery_next_attempt_at", "message_delivery_due"),
                ]
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

    class Meta:
        db_table = "tickets_attachment"

    def __str__(self) -> str:
        return self.filename


class CaseCount(models.Model):
    """How many cases, not merged into another, have each combination of what the inbox's
    queues select on, kept in step by database triggers on the cases table (migration
    ``0004_case_counts``) in the transactions that change cases.

    Each change adds rows of +n and -n rather than updating a shared row, so writers never
    wait on each other; ``compact_case_counts`` folds them into one row per combination.
    A count is the sum of ``delta`` over its combination's rows.
    """

    spam = models.BooleanField()
    status = models.CharField(max_length=16)
    team_key = models.BigIntegerField()  # the team's id, 0 for none
    assignee_key = models.BigIntegerField()  # the assignee's id, 0 for none
    delta = models.BigIntegerField()

    class Meta:
        db_table = "tickets_casecount"

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.status} team {self.team_key} assignee {self.assignee_key}"


class CaseRollup(models.Model):
    """What the dashboards read of each case, one row per case, so that a range's figures
    are one scan of its rows rather than a search of every case's history and messages, or a
    join to every case row. Derived from the history and the messages, and rewritten by
    ``cases.rollup.refresh`` whenever an event that changes it is recorded
    (``cases.history``), in the same transaction; but for a copy of the case row's team,
    priority and policy, kept by the database (below)."""

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.CASCADE, related_name="rollup"
    )
    # When its ``created`` event happened.
    opened_at = models.DateTimeField(null=True)
    # The channel of its earliest customer message; None (as the reports' queries give for a
    # case without one) while it has none.
    first_channel = models.CharField(max_length=32, null=True)  # noqa: DJ001
    first_reply_at = models.DateTimeField(null=True)
    first_resolved_at = models.DateTimeField(null=True)
    # Whether the breach check ever recorded a breach of each target (SLABreach.Target).
    first_response_breached = models.BooleanField(default=False)
    next_response_breached = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    # A copy of its case row's team, priority and own policy (``Case.sla_policy``, None once
    # the case's clocks stop), which response times and service levels count by, so that they
    # read a range from this table's index alone instead of joining every case row. Written
    # from the case row with a new roll-up; after that a trigger on the case table
    # (migration 0024) copies them whenever one changes, so that every way of changing
    # them (actions, routing, merges, a bulk ``update()``, the admin) keeps the copy right.
    team = models.ForeignKey(
        Team, null=True, on_delete=models.DO_NOTHING, db_index=False, related_name="+"
    )
    priority = models.CharField(max_length=16, choices=Priority)
    sla_policy = models.ForeignKey(
        SLAPolicy, null=True, on_delete=models.DO_NOTHING, db_index=False, related_name="+"
    )

    class Meta:
        db_table = "tickets_caserollup"
        indexes = [
            # A range's cases opened with every measure (the flow's cohort, response times,
            # service levels, the cases behind their figures): each dashboard reads the
            # range's rows from this index alone, and the flow counts them per day from it.
            models.Index(
                fields=["opened_at", "case"],
                include=[
                    "first_channel",
                    "first_reply_at",
                    "first_resolved_at",
                    "first_response_breached",
                    "next_response_breached",
                    "resolution_breached",
                    "team",
                    "priority",
                    "sla_policy",
                ],
                name="caserollup_range",
            ),
            # The cases behind a first-response or resolution figure, longest first: a page
            # of them is read in this order, not sorted from all of the range's cases.
            models.Index(
                (F("first_reply_at") - F("opened_at")).desc(),
                F("case").desc(),
                name="caserollup_reply_time",
                condition=Q(first_reply_at__isnull=False),
            ),
            models.Index(
                (F("first_resolved_at") - F("opened_at")).desc(),
                F("case").desc(),
                name="caserollup_resolution_time",
                condition=Q(first_resolved_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Roll-up of case {self.case_id}"


class AgentActivity(models.Model):
    """What the agents dashboard reads: one row for each agent an event counts for (its
    actor, or the agent a case was given to) and the measure it counts in, so that a range's
    figures are one read of a narrow index rather than of the history. Derived only from the
    history, and written by ``cases.history`` with the events, in the same transaction;
    spam and folded cases are left out when read, as every figure leaves them out."""

    class Measure(models.TextChoices):
        TAKEN_ON = "taken-on", "Taken on"
        REPLIED = "replied", "Replied on"
        RESOLVED_BY = "resolved-by", "Resolved"
        HANDED_OFF = "handed-off", "Handed off"
        HANDED_TO = "handed-to", "Received hand-offs"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    # The history names the receiver of a case by id in its data, unchecked; so does this.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    measure = models.CharField(max_length=16, choices=Measure)
    # When the event happened.
    occurred_at = models.DateTimeField()

    class Meta:
        db_table = "tickets_agentactivity"
        indexes = [
            # The agents dashboard: a range's rows, read from the index alone.
            models.Index(
                fields=["occurred_at", "measure", "agent", "case"],
                name="agentactivity_occurred_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} by agent {self.agent_id} on case {self.case_id}"


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
        ERASED = "erased", "Customer erased"
        HIDDEN = "hidden_on_platform", "Hidden on the platform"
        INCIDENT_UPDATE = "incident_update", "Incident update sent"

    # Indexed first in caseevent_case_occurred_at: an index of its own would only slow the
    # writing of history down.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
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
        db_index=False,  # caseevent_actor
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "tickets_caseevent"
        indexes = [
            models.Index(fields=["case", "occurred_at"], name="caseevent_case_occurred_at"),
            models.Index(fields=["kind", "occurred_at"], name="caseevent_kind_occurred_at"),
            # Only staff's events have an actor; ingest writes most of the history without.
            models.Index(
                fields=["actor"], condition=Q(actor__isnull=False), name="caseevent_actor"
            ),
            # The backlog and flow dashboard's resolutions per day, read from this index alone.
            models.Index(
                fields=["occurred_at", "case"],
                condition=Q(kind="status_changed", data__to="resolved"),
                name="caseevent_resolved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case {self.case_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(f"Case event {self.pk} is history and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"Case event {self.pk} is history and cannot be deleted.")


class CannedResponse(models.Model):
    """A reply template. Placeholders such as ``{first_name}`` and ``{agent_name}`` are filled
    in (``casework.actions.render_canned``) and the agent edits the text before sending."""

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
        db_table = "tickets_cannedresponse"
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Survey(models.Model):
    """A satisfaction survey sent to a customer on a private channel after their case was
    resolved (``casework.surveys``), and their answer: a score from 1 to 5, and on the
    survey page optionally how likely they are to recommend the brand, from 0 to 10."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="surveys")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="surveys")
    channel_account = models.ForeignKey(
        ChannelAccount, on_delete=models.PROTECT, related_name="surveys"
    )
    channel = models.CharField(max_length=32)  # "x.dm", "facebook.message" or "email"
    # The outbound message that asks; it goes through the ordinary reply queue.
    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="survey")
    # Whose case it was when it was resolved, for the satisfaction dashboard.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField()
    # The one-click link's secret: /survey/<token>/.
    token = models.CharField(max_length=43, unique=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    # The customer's message that answered it; None when answered on the survey page.
    answer = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_answer"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="survey_score_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__lte=10), name="survey_nps_0_to_10"
            ),
        ]
        indexes = [
            # The throttle and ingest's matching read a customer's latest surveys.
            models.Index(fields=["customer", "sent_at"], name="survey_customer_sent_at"),
            models.Index(fields=["sent_at"], name="survey_sent_at"),
        ]

    def __str__(self) -> str:
        return f"Survey {self.pk} on case {self.case_id}"


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
        db_table = "tickets_slabreach"
        verbose_name = "SLA breach"
        verbose_name_plural = "SLA breaches"
        constraints = [
            models.UniqueConstraint(
                fields=["case", "target", "clock_started_at"], name="slabreach_once_per_clock"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_display()} breached on case {self.case_id}"


class SpamBlock(models.Model):
    """An entry of the spam list supervisors manage in the admin site: an author or a domain
    whose messages are spam, or an author trusted never to be marked by the content and repeat
    rules (added when someone marks one of their cases "Not spam")."""

    class Kind(models.TextChoices):
        AUTHOR = "author", "Blocked author"
        DOMAIN = "domain", "Blocked domain"
        TRUSTED = "trusted", "Trusted author"

    kind = models.CharField(max_length=16, choices=Kind)
    # An author as "platform:external id" (e.g. "x:12345") or a handle (e.g. "x:@spammer",
    # or "@spammer" on any platform); a domain as "example.com" (its subdomains too).
    value = models.CharField(max_length=320)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "spam list entry"
        verbose_name_plural = "spam list"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="spamblock_unique_kind_value")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"
