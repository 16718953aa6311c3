"""The case page and the actions on it.

Each action view calls one service of ``casework.actions``. For htmx it answers with the
fragment it changed, the header and the case details out of band, and a ``case-changed``
event that makes the timeline refresh; a plain form post is redirected back to the page with
the outcome as a message. A refusal (someone else claimed the case first, a reply the
platform would refuse) is shown to the agent in the service's words.
"""

import io
import unicodedata
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event
from django_htmx.middleware import HtmxDetails

from cases import visibility
from cases.models import Attachment, CannedResponse, Case, Message
from casework import actions
from casework.exceptions import ActionNotAllowed, CaseTaken, ReplyNotPossible
from casework.replies import retry_reply
from channels.plug import OutboundFile
from staff import presence
from staff.names import display_name
from workspace import case_page
from workspace.case_page import CasePage
from workspace.views.access import supervisor_required, viewer_required, worker_required

PAGE = "workspace/case_detail.html"
REFUSALS = (ActionNotAllowed, CaseTaken, ReplyNotPossible)


class WorkspaceRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


def _case(request: WorkspaceRequest, case_id: int) -> Case:
    """The case in the URL; 404 if there is none, or if it is not the user's to see (a case
    of another team is answered as if it did not exist)."""
    case = case_page.page_case(case_id)
    if case is None or not visibility.can_see(request.user, case):
        raise Http404(f"There is no case {case_id}.")
    return case


def _page(request: WorkspaceRequest, case: Case) -> CasePage:
    answering = request.POST.get("answering_id") or request.GET.get("answering_id")
    return CasePage(case, request.user, answering_id=answering)


def _fragments(request: WorkspaceRequest, names: list[str], context: dict) -> HttpResponse:
    html = "".join(render_to_string(f"{PAGE}#{name}", context, request) for name in names)
    return HttpResponse(html)


@require_GET
@viewer_required
def case_detail(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    # A dozen forms print the token: once as text, not through the lazy object each time.
    token = get_token(request)
    return render(request, PAGE, {"case": case, "page": _page(request, case), "csrf_token": token})


@require_GET
@viewer_required
def case_timeline(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    """The timeline, with the header and the composer's view of the customer out of band;
    204 while nothing changed since the ``version`` the page has."""
    case = _case(request, case_id)
    if request.GET.get("version") == case_page.timeline_version(case):
        return HttpResponse(status=204)
    page = _page(request, case)
    context = {"case": case, "page": page, "oob": True}
    names = ["timeline", "header"]
    if page.can_work:
        names.append("details")
        if request.GET.get("holder_shown") and not page.held_by_other:
            # The page shows who held the case; it is free now: the composer comes back.
            names += ["reply_slot", "hand_off_slot"]
        elif not page.held_by_other:
            names += ["latest", "reply_channel"]
    return _fragments(request, names, context)


@require_POST
@viewer_required
def case_presence(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    """The heartbeat: record what this user is doing on the case, show who else is on it."""
    case = _case(request, case_id)
    presence.report(
        case_id=case.pk,
        user_id=request.user.pk,
        name=display_name(request.user),
        activity=request.POST.get("activity", "viewing"),
    )
    others = presence.others(case_id=case.pk, user_id=request.user.pk)
    return render(request, f"{PAGE}#presence", {"others": others})


def _act(
    request: WorkspaceRequest,
    case_id: int,
    action: Callable[[], object],
    *,
    fragment: str,
    notice: str,
) -> HttpResponse:
    """Run one service and answer with ``fragment`` (and the header), or the refusal."""
    # 404 for a case that does not exist, before any service looks for it.
    held_before = _page(request, _case(request, case_id)).held_by_other
    error = ""
    try:
        action()
    except REFUSALS as refusal:
        error = str(refusal)
    case = case_page.page_case(case_id)
    if case is None or not visibility.can_see(request.user, case):
        # Handed to another team: done, and no longer this user's to see.
        messages.success(request, f"{notice} Case #{case_id} is now with another team.")
        inbox = reverse("workspace:inbox")
        return HttpResponseClientRedirect(inbox) if request.htmx else redirect(inbox)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return redirect("workspace:case-detail", case_id=case.pk)
    page = _page(request, case)
    context = {
        "case": case,
        "page": page,
        "oob": True,
        "error": error,
        "notice": notice,
        "fragment": fragment,
    }
    # Header and details are swapped out of band (their buttons swap nothing themselves), so
    # they always follow the case; a header button's refusal shows in the alert region, which
    # the timeline's polling leaves alone.
    names = ["header", "details", "alert"] if page.can_work else ["header", "alert"]
    if page.can_work and page.held_by_other != held_before:
        # The case changed hands: the composer gives way to the holder panel, or back. A
        # hand-off keeps its own panel, saying it is done, until the page is left.
        names += ["reply_slot"] if fragment == "hand_off" else ["reply_slot", "hand_off_slot"]
    if fragment not in names:
        names.append(fragment)
    response = _fragments(request, names, context)
    return response if error else trigger_client_event(response, "case-changed", {"id": case.pk})


@require_POST
@worker_required
def case_claim(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda: actions.claim_case(case_id=case_id, agent=request.user),
        fragment="header",
        notice="You have the case.",
    )


@require_POST
@worker_required
def case_release(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda: actions.release_case(case_id=case_id, agent=request.user),
        fragment="header",
        notice="Released to the queue.",
    )


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


@require_POST
@worker_required
def case_reply(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    """Send the composer's reply. A canned response sent without an edit comes back with a
    confirmation prompt instead of going out."""
    _case(request, case_id)
    text = request.POST.get("text", "")
    # "Send unchanged" answers the confirmation prompt and carries the status chosen before.
    confirmed = request.POST.get("send_unchanged", "")
    then = request.POST.get("then") or (confirmed if confirmed in Case.Status.values else "")
    # Only an email composer has these fields; elsewhere the subject is None (automatic).
    subject = request.POST.get("subject")
    cc = request.POST.get("cc", "")
    error, confirm = "", ""
    try:
        actions.reply_to_case(
            case_id=case_id,
            agent=request.user,
            text=text,
            answering_id=_int(request.POST.get("answering_id")),
            canned_id=_int(request.POST.get("canned_id")),
            send_unchanged=confirmed == "1" or confirmed in Case.Status.values,
            then_status=then,
            subject=subject,
            cc=[address.strip() for address in cc.split(",") if address.strip()],
            attachments=[
                OutboundFile(
                    upload.name or "attachment",
                    upload.content_type or "application/octet-stream",
                    upload.read(),
                )
                for upload in request.FILES.getlist("attachments")
            ],
        )
    except actions.CannedUnchanged as unchanged:
        confirm = str(unchanged)
    except REFUSALS as refusal:
        error = str(refusal)
    case = _case(request, case_id)
    kept = bool(error or confirm)
    if not request.htmx:
        if kept:
            messages.error(request, error or confirm + " Edit it, or send it from the page.")
        else:
            messages.success(request, _reply_notice(then))
        return redirect("workspace:case-detail", case_id=case.pk)
    page = _page(request, case)
    context = {
        "case": case,
        "page": page,
        "oob": True,
        "error": error,
        "confirm": confirm,
        "text": text if kept else "",
        "then": then if kept else "",
        "notice": "" if kept else _reply_notice(then),
        "canned_id": request.POST.get("canned_id", "") if kept else "",
        # What the agent wrote stays for another try; files must be chosen again.
        "subject": subject if kept else None,
        "cc": cc if kept else "",
        "reattach": kept and bool(request.FILES),
        "status": case_page.composer_status(
            answering=page.answering.message if page.answering else None,
            text=text if kept else "",
            agent=request.user,
        ),
    }
    names = ["composer", "header"] if kept else ["composer", "header", "details", "presence_flag"]
    response = _fragments(request, names, context)
    return response if kept else trigger_client_event(response, "case-changed", {"id": case.pk})


def _reply_notice(then: str) -> str:
    if then in Case.Status.values:
        return f"Reply queued; the case is now {Case.Status(then).label.lower()}."
    return "Reply queued."


@require_POST
@worker_required
def case_reply_length(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    """The composer's live status: X's count of the signed reply, Messenger's window."""
    case = _case(request, case_id)
    answering = case_page.answering_message(case, request.POST.get("answering_id"))
    status = case_page.composer_status(
        answering=answering, text=request.POST.get("text", ""), agent=request.user
    )
    return render(request, f"{PAGE}#composer_status", {"status": status})


@require_GET
@worker_required
def case_reply_email_fields(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    """The composer's subject, Cc and attachment fields for the chosen reply channel: there
    only for an email."""
    case = _case(request, case_id)
    return render(request, f"{PAGE}#email_fields", {"case": case, "page": _page(request, case)})


@require_GET
@worker_required
def case_canned(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    """The composer's text filled with a canned response for this case and agent."""
    case = _case(request, case_id)
    canned_id = _int(request.GET.get("canned_id"))
    canned = CannedResponse.objects.filter(pk=canned_id).first() if canned_id else None
    text = actions.render_canned(canned=canned, case=case, agent=request.user) if canned else ""
    answering = case_page.answering_message(case, request.GET.get("answering_id"))
    context = {
        "case": case,
        "text": text,
        "oob": True,
        "status": case_page.composer_status(answering=answering, text=text, agent=request.user),
    }
    return _fragments(request, ["composer_text", "composer_status_oob"], context)


def _panel(request: WorkspaceRequest, case_id: int, fragment: str) -> HttpResponse:
    """The body of a side panel, fetched when the agent first opens it."""
    case = _case(request, case_id)
    return render(request, f"{PAGE}#{fragment}", {"case": case, "page": _page(request, case)})


@require_GET
@worker_required
def case_canned_picker(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    return _panel(request, case_id, "canned_picker")


@require_GET
@worker_required
def case_hand_off_fields(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    return _panel(request, case_id, "hand_off_fields")


@require_GET
@supervisor_required
def case_reassign_fields(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    return _panel(request, case_id, "reassign_fields")


@require_POST
@worker_required
def case_note(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda: actions.add_note(
            case_id=case_id, author=request.user, text=request.POST.get("text", "")
        ),
        fragment="note",
        notice="Note added.",
    )


def _move(request: WorkspaceRequest, case_id: int, move: Callable, **shown: str) -> HttpResponse:
    """Hand off or reassign: the form names a colleague or a team, and a note."""
    return _act(
        request,
        case_id,
        lambda: move(
            case_id=case_id,
            by=request.user,
            note=request.POST.get("note", ""),
            to_user_id=_int(request.POST.get("to_user")),
            to_team_id=_int(request.POST.get("to_team")),
        ),
        **shown,
    )


@require_POST
@worker_required
def case_hand_off(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    return _move(
        request, case_id, actions.hand_off_case, fragment="hand_off", notice="Handed off."
    )


@require_POST
@supervisor_required
def case_reassign(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    return _move(
        request, case_id, actions.reassign_case, fragment="reassign", notice="Reassigned."
    )


@require_POST
@worker_required
def case_status(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    status = request.POST.get("status", "")
    return _act(
        request,
        case_id,
        lambda: actions.set_status(case_id=case_id, by=request.user, status=status),
        # Resolve is a header button; the status form is in the side panel.
        fragment="header" if request.POST.get("from") == "header" else "details",
        notice=f"Status set to {Case.Status(status).label}."
        if status in Case.Status.values
        else "",
    )


@require_POST
@worker_required
def case_details(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    """The side panel's one form: status, priority and tags, saved together. A status left
    out (the field is disabled for who may not change it) stays as it is."""
    tags = request.POST.get("tags")
    return _act(
        request,
        case_id,
        lambda: actions.update_case(
            case_id=case_id,
            by=request.user,
            status=request.POST.get("status", ""),
            priority=request.POST.get("priority", ""),
            tags=None if tags is None else tags.split(","),
        ),
        fragment="details",
        notice="Case details saved.",
    )


@require_POST
@worker_required
def case_spam(request: WorkspaceRequest, case_id: int) -> HttpResponse:
    spam = request.POST.get("spam") == "1"
    return _act(
        request,
        case_id,
        lambda: actions.set_spam(case_id=case_id, by=request.user, spam=spam),
        fragment="header",
        notice="Moved to the Spam queue." if spam else "Marked as not spam.",
    )


@require_POST
@worker_required
def case_retry_reply(request: WorkspaceRequest, case_id: int, message_id: int) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda: retry_reply(message_id=message_id, by=request.user),
        fragment="header",
        notice="Reply queued again.",
    )


@require_GET
@viewer_required
def message_full_text(request: WorkspaceRequest, message_id: int) -> FileResponse:
    """The whole text of a message stored cut at the text limit, as a UTF-8 download."""
    message = get_object_or_404(
        Message.objects.exclude(full_text="").select_related("case"), pk=message_id
    )
    if not visibility.can_see(request.user, message.case):
        raise Http404(f"There is no message {message_id}.")
    return FileResponse(
        io.BytesIO(message.full_text.encode()),
        as_attachment=True,
        filename=f"message-{message.pk}.txt",
        content_type="text/plain; charset=utf-8",
    )


@require_GET
@viewer_required
def attachment_download(
    request: WorkspaceRequest, attachment_id: int, download_key: str
) -> FileResponse:
    """An attachment's content, always as a download: customer files are never shown inline
    (an HTML attachment would run in our origin). Only with the key of its link, and only to
    whoever may see its case."""
    if not constant_time_compare(download_key, case_page.download_key(attachment_id)):
        raise Http404(f"There is no attachment {attachment_id} with that link.")
    attachment = get_object_or_404(
        Attachment.objects.select_related("message__case"), pk=attachment_id
    )
    if not visibility.can_see(request.user, attachment.message.case):
        raise Http404(f"There is no attachment {attachment_id}.")
    if attachment.skipped_reason or not attachment.content:
        raise Http404(f"Attachment {attachment.pk} was not stored: {attachment.skipped_reason}")
    response = FileResponse(
        io.BytesIO(bytes(attachment.content)),
        as_attachment=True,
        filename=download_name(attachment.filename) or f"attachment-{attachment.pk}",
        content_type="application/octet-stream",
    )
    return response


def download_name(filename: str) -> str:
    """A customer's file name as a download may carry it: without control and direction
    characters (a U+202E would make "\u202egnp.exe" look like "exe.png" to whoever saves it)."""
    return "".join(c for c in filename if unicodedata.category(c) not in {"Cc", "Cf"}).strip()


urlpatterns = [
    path("cases/<int:case_id>/", case_detail, name="case-detail"),
    path("cases/<int:case_id>/timeline/", case_timeline, name="case-timeline"),
    path("cases/<int:case_id>/presence/", case_presence, name="case-presence"),
    path("cases/<int:case_id>/claim/", case_claim, name="case-claim"),
    path("cases/<int:case_id>/release/", case_release, name="case-release"),
    path("cases/<int:case_id>/reply/", case_reply, name="case-reply"),
    path("cases/<int:case_id>/reply/length/", case_reply_length, name="case-reply-length"),
    path(
        "cases/<int:case_id>/reply/email-fields/",
        case_reply_email_fields,
        name="case-reply-email-fields",
    ),
    path("cases/<int:case_id>/canned/", case_canned, name="case-canned"),
    path("cases/<int:case_id>/canned/picker/", case_canned_picker, name="case-canned-picker"),
    path("cases/<int:case_id>/note/", case_note, name="case-note"),
    path(
        "cases/<int:case_id>/replies/<int:message_id>/retry/",
        case_retry_reply,
        name="case-retry-reply",
    ),
    path("cases/<int:case_id>/hand-off/", case_hand_off, name="case-hand-off"),
    path(
        "cases/<int:case_id>/hand-off/fields/", case_hand_off_fields, name="case-hand-off-fields"
    ),
    path("cases/<int:case_id>/reassign/", case_reassign, name="case-reassign"),
    path(
        "cases/<int:case_id>/reassign/fields/", case_reassign_fields, name="case-reassign-fields"
    ),
    path("cases/<int:case_id>/status/", case_status, name="case-status"),
    path("cases/<int:case_id>/details/", case_details, name="case-details"),
    path("cases/<int:case_id>/spam/", case_spam, name="case-spam"),
    path(
        "attachments/<int:attachment_id>/<str:download_key>/",
        attachment_download,
        name="attachment-download",
    ),
    path("messages/<int:message_id>/full-text/", message_full_text, name="message-full-text"),
]
