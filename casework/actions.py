"""What people do to a case in the workspace: claim, release, hand off, reassign, reply, write
notes, and set status, priority, tags and spam.

Each action is one transaction that locks the case row, checks who holds the case, writes, and
records a history event, so two people acting at the same moment get a clear answer: exactly
one claim wins, and a reply on a case someone else took meanwhile is refused with their name.
Role checks (may this user reassign at all?) are here too, not only in the views.
"""

import re
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases import clocks, history
from cases.models import CannedResponse, Case, CaseEvent, Message, SpamBlock, Tag
from cases.services import change_status
from casework import replies
from casework.exceptions import ActionNotAllowed, CaseTaken
from casework.tasks import offer_survey_task
from channels.plug import OutboundFile
from notifications.models import Notification
from notifications.services import notify
from staff.models import Team
from staff.names import display_name

MENTION = re.compile(r"(?<![\w@.])@([\w.+-]+)")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class CannedUnchanged(ActionNotAllowed):
    """A canned response is being sent exactly as written; the agent confirms it first."""

    def __init__(self, canned: CannedResponse) -> None:
        super().__init__(
            f"This is the canned response \u201c{canned.title}\u201d without a single edit. "
            "Send it unchanged?"
        )
        self.canned = canned


def _locked(case_id: int) -> Case:
    """The case row, locked until the transaction ends. Refuses a case folded into another by
    a merge: its messages live on the case it points to."""
    # The case row alone: joined rows (the assignee) would be read from the snapshot taken
    # before waiting for the lock, so a loser of a claim race would see the winner's id but
    # not their name. The holder is read afresh when needed.
    case = Case.objects.select_for_update().get(pk=case_id)
    if case.merged_into_id is not None:
        raise ActionNotAllowed(
            f"Case #{case.pk} was merged into case #{case.merged_into_id}; work on that one."
        )
    return case


def _require(user: User, perm: str, doing: str) -> None:
    if not user.has_perm(perm):
        raise ActionNotAllowed(f"{display_name(user)} may not {doing}.")


def _check_holder(case: Case, user: User, doing: str) -> None:
    """Only the case's holder acts on a held case (supervisors reassign instead). ``doing``
    completes "you cannot …", e.g. "hand it off"."""
    if case.assignee_id is not None and case.assignee_id != user.pk:
        raise CaseTaken(
            f"{display_name(case.assignee)} has case #{case.pk}, so you cannot {doing}. "
            "Ask them, or a supervisor, to hand it over."
        )


def _set_assignee(case: Case, user: User | None) -> None:
    case.assignee = user
    fields = ["assignee"]
    if user is not None and case.status == Case.Status.NEW:
        change_status(case, Case.Status.OPEN, reason="Claimed.", actor=user)
    case.save(update_fields=fields)


def claim_case(*, case_id: int, agent: User) -> Case:
    """Take an unassigned case. Raises ``CaseTaken`` naming whoever got it first."""
    _require(agent, "cases.work_case", "claim cases")
    with transaction.atomic():
        case = _locked(case_id)
        if case.assignee_id == agent.pk:
            return case
        if case.assignee_id is not None:
            raise CaseTaken(f"{display_name(case.assignee)} has already claimed case #{case.pk}.")
        _set_assignee(case, agent)
        history.record(case=case, kind=CaseEvent.Kind.CLAIMED, actor=agent, data={"to": agent.pk})
    return case


def release_case(*, case_id: int, agent: User) -> Case:
    """Give a case back to the unassigned queue."""
    _require(agent, "cases.work_case", "release cases")
    with transaction.atomic():
        case = _locked(case_id)
        if case.assignee_id is None:
            return case
        if case.assignee_id != agent.pk and not agent.has_perm("cases.reassign_case"):
            _check_holder(case, agent, "release it")
        previous = case.assignee_id
        _set_assignee(case, None)
        history.record(
            case=case, kind=CaseEvent.Kind.RELEASED, actor=agent, data={"from": previous}
        )
    return case


def hand_off_case(
    *,
    case_id: int,
    by: User,
    note: str,
    to_user_id: int | None = None,
    to_team_id: int | None = None,
) -> Case:
    """Pass a case to a colleague or a team with a note they read first. The holder hands
    off; anyone may hand off an unassigned case."""
    _require(by, "cases.work_case", "hand off cases")
    if not note.strip():
        raise ActionNotAllowed("A hand-off needs a note: say what is done and what is left.")
    with transaction.atomic():
        case = _locked(case_id)
        if not by.has_perm("cases.reassign_case"):
            _check_holder(case, by, "hand it off")
        _move(case, by, CaseEvent.Kind.HANDED_OFF, note.strip(), to_user_id, to_team_id)
    return case


def reassign_case(
    *,
    case_id: int,
    by: User,
    to_user_id: int | None = None,
    to_team_id: int | None = None,
    note: str = "",
) -> Case:
    """A supervisor moves a case to an agent or a team, whoever holds it."""
    _require(by, "cases.reassign_case", "reassign cases")
    with transaction.atomic():
        case = _locked(case_id)
        _move(case, by, CaseEvent.Kind.REASSIGNED, note.strip(), to_user_id, to_team_id)
    return case


def _move(
    case: Case, by: User, kind: str, note: str, to_user_id: int | None, to_team_id: int | None
) -> None:
    if to_user_id is None and to_team_id is None:
        raise ActionNotAllowed("Choose a colleague or a team to pass the case to.")
    to_user = None
    if to_user_id is not None:
        to_user = (
            get_user_model()
            .objects.filter(pk=to_user_id, is_active=True)
            .select_related("agent_profile")
            .first()
        )
        if to_user is None or not to_user.has_perm("cases.work_case"):
            raise ActionNotAllowed("That colleague cannot work cases.")
    team = None
    if to_team_id is not None:
        team = Team.objects.filter(pk=to_team_id).first()
        if team is None:
            raise ActionNotAllowed("That team does not exist.")
    previous, previous_name = case.assignee_id, display_name(case.assignee)
    if team is not None:
        case.team = team
        case.save(update_fields=["team"])
        clocks.recompute(case)  # a team may have its own policy
    _set_assignee(case, to_user)
    history.record(
        case=case,
        kind=kind,
        actor=by,
        data={
            "from": previous,
            "from_name": previous_name if previous is not None else "",
            "to": to_user.pk if to_user else None,
            "to_name": display_name(to_user) if to_user else "",
            "team": team.pk if team else None,
            "team_name": team.name if team else "",
            "note": note,
        },
    )
    recipients = [to_user.pk] if to_user else list(team.agents.values_list("user_id", flat=True))  # type: ignore[union-attr]
    verb = "handed off" if kind == CaseEvent.Kind.HANDED_OFF else "reassigned"
    for recipient in recipients:
        notify(
            recipient_id=recipient,
            kind=Notification.Kind.HANDED_OFF,
            case=case,
            actor=by,
            text=f"{display_name(by)} {verb} case #{case.pk} to you"
            + (f": {note}" if note else "."),
        )


def reply_to_case(
    *,
    case_id: int,
    agent: User,
    text: str,
    answering_id: int | None = None,
    canned_id: int | None = None,
    send_unchanged: bool = False,
    then_status: str = "",
    subject: str | None = None,
    cc: Sequence[str] = (),
    attachments: Sequence[OutboundFile] = (),
) -> Message:
    """Send a reply as ``agent``, with an email reply's ``subject``, ``cc`` and ``attachments``
    as ``queue_reply`` takes them. An unassigned case is claimed by the reply; a case someone
    else holds is refused (``CaseTaken``). A reply that is canned response ``canned_id``
    without an edit raises ``CannedUnchanged`` unless ``send_unchanged``. Raises
    ``ReplyNotPossible`` as ``queue_reply``. With ``then_status`` the case's status is then
    set as ``set_status`` sets it, in the same transaction: a refused reply changes nothing."""
    _require(agent, "cases.work_case", "reply to customers")
    if then_status:
        _check_status(then_status)
    text = _plain(text)
    with transaction.atomic():
        case = _locked(case_id)
        _check_holder(case, agent, "reply to it")
        answering = None
        if answering_id is not None:
            answering = Message.objects.filter(pk=answering_id, case=case).first()
            if answering is None:
                raise ActionNotAllowed(f"Message {answering_id} is not on case #{case.pk}.")
        if canned_id is not None and not send_unchanged:
            canned = CannedResponse.objects.filter(pk=canned_id).first()
            if canned and text.strip() == render_canned(canned=canned, case=case, agent=agent):
                raise CannedUnchanged(canned)
        reply = replies.queue_reply(
            case=case,
            agent=agent,
            text=text,
            answering=answering,
            subject=subject,
            cc=cc,
            attachments=attachments,
        )
        if case.assignee_id is None:
            _set_assignee(case, agent)
            history.record(
                case=case,
                kind=CaseEvent.Kind.CLAIMED,
                actor=agent,
                data={"to": agent.pk, "by_reply": True},
            )
        if then_status:
            set_status(case_id=case.pk, by=agent, status=then_status)
    return reply


def _plain(text: str) -> str:
    # Browsers send a textarea's line breaks as CRLF; platforms and X's length count want LF.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def add_note(*, case_id: int, author: User, text: str) -> Message:
    """An internal note, never sent to the customer. Colleagues @mentioned by username are
    notified."""
    _require(author, "cases.work_case", "write notes")
    text = _plain(text).strip()
    if not text:
        raise ActionNotAllowed("The note is empty.")
    with transaction.atomic():
        case = _locked(case_id)
        note = Message.objects.create(
            case=case,
            direction=Message.Direction.NOTE,
            author_user=author,
            text=text,
            sent_at=timezone.now(),
        )
        mentioned = mentioned_users(text)
        history.record(
            case=case,
            kind=CaseEvent.Kind.NOTE_ADDED,
            at=note.sent_at,
            actor=author,
            message=note,
            data={"mentioned": [u.pk for u in mentioned]},
        )
        for user in mentioned:
            notify(
                recipient_id=user.pk,
                kind=Notification.Kind.MENTIONED,
                case=case,
                actor=author,
                text=f"{display_name(author)} mentioned you on case #{case.pk}: {text[:200]}",
            )
    return note


def mentioned_users(text: str) -> list[User]:
    """Active colleagues who work cases, named as ``@username`` in ``text`` (any case; a full
    stop or comma after the name ends it)."""
    names = {m.rstrip(".+-").lower() for m in MENTION.findall(text)} - {""}
    if not names:
        return []
    named = Q()
    for name in names:
        named |= Q(username__iexact=name)
    users = get_user_model().objects.filter(named, is_active=True)
    return [u for u in users if u.has_perm("cases.work_case")]


def set_status(*, case_id: int, by: User, status: str) -> Case:
    """Open, set pending on the customer, or resolve. Only the holder (or a supervisor)
    changes the status of a held case: resolving it under them would lose their work."""
    _require(by, "cases.work_case", "change a case's status")
    _check_status(status)
    with transaction.atomic():
        case = _locked(case_id)
        if not by.has_perm("cases.reassign_case"):
            _check_holder(case, by, "change its status")
        if case.status == Case.Status.CLOSED:
            raise ActionNotAllowed(
                f"Case #{case.pk} is closed; the customer's next message opens a new one."
            )
        if case.status != status:
            change_status(case, status, reason="Set by hand.", actor=by)
            if status == Case.Status.RESOLVED:
                offer_survey_later(case_id=case.pk)
    return case


def _check_status(status: str) -> None:
    if status not in (Case.Status.OPEN, Case.Status.PENDING, Case.Status.RESOLVED):
        choices = "open, pending on the customer or resolved"
        raise ActionNotAllowed(
            f"A case cannot be set to \u201c{status}\u201d by hand; set it {choices}."
            if status
            else f"Choose a status: {choices}."
        )


def update_case(
    *,
    case_id: int,
    by: User,
    status: str = "",
    priority: str = "",
    tags: Iterable[str] | None = None,
) -> Case:
    """Set status, priority and tags together, all or nothing, each through its own action
    (so each change is recorded as it would be alone). An empty ``status`` or ``priority``, or
    ``tags`` of None, leave that part as it is, and so does a status equal to the case's: who
    may not change a held case's status can still save its priority and tags."""
    with transaction.atomic():
        case = _locked(case_id)
        if status and status != case.status:
            case = set_status(case_id=case_id, by=by, status=status)
        if priority:
            case = set_priority(case_id=case_id, by=by, priority=priority)
        if tags is not None:
            case = set_tags(case_id=case_id, by=by, names=tags)
    return case


def offer_survey_later(*, case_id: int) -> None:
    """Offer the case's customer a survey (``casework.surveys``) after the commit and
    ``CAREINBOX_SURVEY_DELAY_MINUTES``, in which a case reopened at once is spared one."""
    delay = settings.CAREINBOX_SURVEY_DELAY_MINUTES * 60
    transaction.on_commit(
        lambda: offer_survey_task.apply_async((case_id,), countdown=delay), robust=True
    )


def set_priority(*, case_id: int, by: User, priority: str) -> Case:
    """Anyone who works cases may raise or lower a case's priority, whoever holds it."""
    _require(by, "cases.work_case", "change a case's priority")
    if priority not in Case.Priority.values:
        raise ActionNotAllowed(
            f"There is no priority \u201c{priority}\u201d; choose low, normal, high or urgent."
            if priority
            else "Choose a priority: low, normal, high or urgent."
        )
    with transaction.atomic():
        case = _locked(case_id)
        if case.priority != priority:
            previous, case.priority = case.priority, priority
            case.save(update_fields=["priority"])
            clocks.recompute(case)  # targets are per priority
            history.record(
                case=case,
                kind=CaseEvent.Kind.PRIORITY_CHANGED,
                actor=by,
                data={"from": previous, "to": priority},
            )
    return case


def set_tags(*, case_id: int, by: User, names: Iterable[str]) -> Case:
    """Replace the case's tags; new tag names are created."""
    _require(by, "cases.work_case", "tag cases")
    wanted = sorted({n.strip().lower() for n in names if n.strip()})
    if any(len(n) > 50 for n in wanted):
        raise ActionNotAllowed("A tag is at most 50 characters long.")
    with transaction.atomic():
        case = _locked(case_id)
        before = sorted(case.tags.values_list("name", flat=True))
        if before != wanted:
            tags = [Tag.objects.get_or_create(name=n)[0] for n in wanted]
            case.tags.set(tags)
            history.record(
                case=case,
                kind=CaseEvent.Kind.TAGS_CHANGED,
                actor=by,
                data={"from": before, "to": wanted},
            )
    return case


def set_spam(*, case_id: int, by: User, spam: bool) -> Case:
    """Move a case to the Spam queue, or back. Nothing is deleted. Like the status, only the
    holder (or a supervisor) does this to a held case."""
    _require(by, "cases.work_case", "mark spam")
    with transaction.atomic():
        case = _locked(case_id)
        if not by.has_perm("cases.reassign_case"):
            _check_holder(case, by, "mark it as spam")
        if case.spam != spam:
            case.spam = spam
            case.save(update_fields=["spam"])
            kind = CaseEvent.Kind.MARKED_SPAM if spam else CaseEvent.Kind.UNMARKED_SPAM
            history.record(case=case, kind=kind, actor=by)
        if not spam:
            _not_spam(case, by=by)
    return case


def _not_spam(case: Case, *, by: User) -> None:
    """Teach ingest: the case's messages found to be spam are customer messages after all.
    They need a reply again (the oldest unanswered one starts the clock), and their authors
    are trusted, so the content and repeat rules never mark them again."""
    found = list(
        case.messages.filter(direction=Message.Direction.INBOUND)
        .exclude(spam_reason="")
        .select_related("author_identity")
    )
    if not found:
        return
    last_reply = (
        case.messages.filter(direction=Message.Direction.OUTBOUND)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    for message in found:
        message.spam_reason = ""
        if message.no_reply_reason.startswith("Spam: "):
            message.needs_reply, message.no_reply_reason = True, ""
    Message.objects.bulk_update(found, ["spam_reason", "needs_reply", "no_reply_reason"])
    waiting = [
        m.sent_at
        for m in found
        if m.needs_reply and not m.automated and (last_reply is None or m.sent_at > last_reply)
    ]
    if case.awaiting_reply_since is not None:
        waiting.append(case.awaiting_reply_since)
    if min(waiting, default=None) != case.awaiting_reply_since:
        case.awaiting_reply_since = min(waiting)
        case.save(update_fields=["awaiting_reply_since"])
    authors = {m.author_identity for m in found if m.author_identity is not None}
    SpamBlock.objects.bulk_create(
        [
            SpamBlock(
                kind=SpamBlock.Kind.TRUSTED,
                value=f"{identity.platform}:{identity.external_id}",
                note=f"Marked not spam on case #{case.pk}.",
                created_by=by,
            )
            for identity in sorted(authors, key=lambda i: i.pk)
        ],
        ignore_conflicts=True,
    )
    clocks.recompute(case)


def render_canned(*, canned: CannedResponse, case: Case, agent: User) -> str:
    """The canned text with its placeholders filled in for this case; unknown placeholders
    stay as written, for the agent to see and fix."""
    return fill_placeholders(text=canned.text, case=case, agent=agent)


def fill_placeholders(*, text: str, case: Case, agent: User) -> str:
    """A reply template's placeholders (``{first_name}``, ``{customer_name}``,
    ``{agent_name}`` ...) filled in for this case; unknown ones stay as written."""
    name = case.customer.display_name.strip()
    agent_name = display_name(agent).strip()
    values = {
        "first_name": name.split()[0] if name else "there",
        "customer_name": name or "there",
        "agent_name": agent_name,
        "agent_first_name": agent_name.split()[0] if agent_name else "",
        "case_number": str(case.pk),
    }
    text = _plain(text).strip()
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
