"""The public contact form and its embed script (``intake.contact``).

Anyone may post it, from the brand's own help page too (in a frame the embed script adds), so
it carries no CSRF token, which a cookie blocked in a third-party frame would break; its
defences are a hidden field only bots fill in, a signed time the form was shown (a person
takes more than a few seconds), and a rate limit per address. A doubted submission is
quarantined, not refused: the sender sees the same thanks either way.
"""

import time
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from channels.models import ChannelAccount
from intake import contact

SIGNING_SALT = "careinbox.contact-form"
# The field bots fill in: labelled for people as one to leave empty, and hidden from them.
HONEYPOT = "website"


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(label="Email address")
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=20_000)
    order_reference = forms.CharField(
        max_length=100, required=False, label="Order reference (optional)"
    )
    attachment = forms.FileField(required=False, label="Attachment (optional)")
    website = forms.CharField(required=False, label="Leave this empty")
    shown = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        limit = settings.CAREINBOX_CONTACT_FORM_MAX_ATTACHMENT_BYTES
        if upload is not None and upload.size > limit:
            raise forms.ValidationError(
                f"The attachment is {upload.size // 1024 // 1024} MB; the limit is "
                f"{limit // 1024 // 1024} MB."
            )
        return upload

    def submission(self) -> contact.Submission:
        data = self.cleaned_data
        upload = data.get("attachment")
        attachment = None
        if upload is not None:
            attachment = contact.Attachment(
                filename=upload.name,
                content_type=upload.content_type or "application/octet-stream",
                content=upload.read(),
            )
        return contact.Submission(
            name=data["name"].strip(),
            email=data["email"],
            message=data["message"],
            order_reference=data["order_reference"].strip(),
            attachment=attachment,
        )


def _shown_token(account: ChannelAccount) -> str:
    return signing.dumps({"account": account.pk, "at": time.time()}, salt=SIGNING_SALT)


def _doubt(form: ContactForm, account: ChannelAccount) -> str:
    """Why the bot defences doubt a valid submission, or "" when they do not."""
    if form.cleaned_data.get(HONEYPOT):
        return "the field people are asked to leave empty was filled in"
    try:
        shown = signing.loads(form.cleaned_data.get("shown") or "", salt=SIGNING_SALT)
    except signing.BadSignature:
        return "it did not come from the form as the server showed it"
    if shown.get("account") != account.pk:
        return "it came from another account's form"
    seconds = time.time() - float(shown.get("at", 0))
    if seconds < settings.CAREINBOX_CONTACT_FORM_MIN_SECONDS:
        return f"it was sent {seconds:.1f} s after the form was shown, faster than a person types"
    return ""


def _account(account_id: int) -> ChannelAccount:
    try:
        return contact.form_account(account_id)
    except ChannelAccount.DoesNotExist:
        raise Http404("There is no contact form here.") from None


def _framable_csp() -> dict[str, Any]:
    """The site's policy, except that the brand's own pages may frame the form."""
    policy: dict[str, Any] = dict(settings.SECURE_CSP)
    policy["frame-ancestors"] = settings.CAREINBOX_CONTACT_FORM_FRAME_ANCESTORS
    return policy


_framable = csp_override(_framable_csp())


@csrf_exempt
@xframe_options_exempt
@_framable
@require_http_methods(["GET", "POST"])
def contact_form(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(account_id)
    brand = account.settings.get("brand") or account.name
    if request.method == "GET":
        form = ContactForm(initial={"shown": _shown_token(account)})
        return render(request, "intake/contact_form.html", {"form": form, "brand": brand})
    if is_ratelimited(
        request,
        group="contact-form",
        key="ip",
        rate=settings.CAREINBOX_CONTACT_FORM_RATE,
        method="POST",
        increment=True,
    ):
        return render(request, "intake/contact_limited.html", {"brand": brand}, status=429)
    form = ContactForm(request.POST, request.FILES)
    if not form.is_valid():
        # Shown again as typed, with the time it was first shown: correcting takes time too.
        return render(
            request, "intake/contact_form.html", {"form": form, "brand": brand}, status=400
        )
    contact.submit(
        form.submission(), account=account, at=timezone.now(), held_because=_doubt(form, account)
    )
    return render(request, "intake/contact_thanks.html", {"brand": brand})


@require_GET
def embed_script(request: HttpRequest, account_id: int) -> HttpResponse:
    """A script for the brand's help page: it puts the form in a frame where it stands."""
    _account(account_id)
    form_url = request.build_absolute_uri(reverse("contact-form", args=[account_id]))
    return render(
        request,
        "intake/contact_embed.js",
        {"form_url": form_url},
        content_type="text/javascript; charset=utf-8",
    )


urlpatterns = [
    path("contact/<int:account_id>/", contact_form, name="contact-form"),
    path("contact/<int:account_id>/embed.js", embed_script, name="contact-embed"),
]
