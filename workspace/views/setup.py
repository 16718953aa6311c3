"""The first-run setup (``staff.onboarding``): the first admin, a team, the agents invited,
and the channel accounts connected with a "Test connection" each. The first page opens
without signing in, but only with the setup key the server logs; the others are for admins,
who may come back to them later to connect another account."""

from dataclasses import dataclass
from functools import partial
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from channels.models import ChannelAccount, Platform
from staff import onboarding, roles
from staff.models import Team
from workspace.views.access import setup_admin_required


class AdminForm(forms.Form):
    username = forms.CharField(max_length=150)
    display_name = forms.CharField(max_length=100, label="Your name, as colleagues see it")
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput)
    password_again = forms.CharField(widget=forms.PasswordInput, label="Password again")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") != data.get("password_again"):
            raise ValidationError("The two passwords differ.")
        if data.get("password"):
            validate_password(data["password"])
        return data


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Create the first admin; without the setup key, say where to find it."""
    if not onboarding.needs_setup():
        return redirect("workspace:setup-team")
    key = request.POST.get("key") or request.GET.get("key") or ""
    if not onboarding.key_matches(key):
        onboarding.log_setup_key(request.build_absolute_uri(reverse("workspace:setup")))
        return render(request, "workspace/setup_key.html", {"wrong": bool(key)}, status=403)
    form = AdminForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = onboarding.add_member(
            username=data["username"],
            email=data["email"],
            display_name=data["display_name"],
            role=roles.ADMIN,
            password=data["password"],
        )
        login(request, user, backend="staff.backends.StaffBackend")
        return redirect("workspace:setup-team")
    return render(request, "workspace/setup_admin.html", {"form": form, "key": key})


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, label="Team name", initial="Care team")


@setup_admin_required
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created, _ = Team.objects.get_or_create(name=form.cleaned_data["name"].strip())
        request.user.agent_profile.teams.add(created)  # type: ignore[union-attr]
        messages.success(request, f"Team {created.name} is ready.")
        return redirect("workspace:setup-agents")
    return render(
        request, "workspace/setup_team.html", {"form": form, "teams": Team.objects.all()}
    )


ROLES = {roles.AGENT, roles.SUPERVISOR, roles.MANAGER, roles.ADMIN}


@dataclass(frozen=True)
class Invitee:
    name: str
    email: str
    role: str


class InviteForm(forms.Form):
    people = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "Jo Lee, jo@acme.example, agent"}),
        label="One person a line: name, email address, role (agent, supervisor or manager)",
    )
    team = forms.ModelChoiceField(Team.objects.all(), required=False, empty_label="No team")

    def clean_people(self) -> list[Invitee]:
        invitees, errors = [], []
        for number, line in enumerate(self.cleaned_data["people"].splitlines(), 1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split(",")]
            if len(parts) != 3:
                errors.append(f"Line {number}: write name, email address, role.")
                continue
            name, email, role = parts
            try:
                forms.EmailField().clean(email)
            except ValidationError:
                errors.append(f"Line {number}: {email!r} is not an email address.")
                continue
            if role.lower() not in ROLES:
                errors.append(f"Line {number}: {role!r} is not agent, supervisor or manager.")
                continue
            if get_user_model().objects.filter(username=email).exists():
                errors.append(f"Line {number}: {email} already has an account.")
                continue
            invitees.append(Invitee(name, email, role.lower()))
        if errors:
            raise ValidationError(errors)
        return invitees


@setup_admin_required
@require_http_methods(["GET", "POST"])
def agents(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None, initial={"team": Team.objects.first()})
    if request.method == "POST" and form.is_valid():
        base_url = request.build_absolute_uri("/")
        with transaction.atomic():
            for person in form.cleaned_data["people"]:
                user = onboarding.add_member(
                    username=person.email,
                    email=person.email,
                    display_name=person.name,
                    role=person.role,
                    team=form.cleaned_data["team"],
                )
                transaction.on_commit(partial(onboarding.invite, user, base_url=base_url))
        count = len(form.cleaned_data["people"])
        messages.success(request, f"Invited {count} {'person' if count == 1 else 'people'}.")
        return redirect("workspace:setup-channels")
    return render(request, "workspace/setup_agents.html", {"form": form})


# What an admin types to connect each platform: (name, label, where it goes, kind).
# "setting" and "credential" are stored as typed; "secret" is a credential shown as dots.
FIELDS: dict[str, list[tuple[str, str, str, str]]] = {
    Platform.X: [
        ("handle", "The brand's handle, without @", "setting", "text"),
        ("bearer_token", "Bearer token (reading)", "credential", "secret"),
        ("consumer_key", "API key (replies and DMs)", "credential", "secret"),
        ("consumer_secret", "API key secret", "credential", "secret"),
        ("access_token", "Access token", "credential", "secret"),
        ("access_token_secret", "Access token secret", "credential", "secret"),
        ("api_base", "API address (leave empty for X itself)", "setting", "text"),
    ],
    Platform.FACEBOOK: [
        ("page_id", "Page id", "setting", "text"),
        ("page_name", "Page name", "setting", "text"),
        ("page_access_token", "Page access token", "credential", "secret"),
        ("graph_base", "Graph address (leave empty for Facebook itself)", "setting", "text"),
    ],
    Platform.EMAIL: [
        ("address", "The brand's address", "setting", "text"),
        ("mailbox", "Read mail from", "setting", "mailbox"),
        ("imap_host", "IMAP server", "setting", "text"),
        ("imap_port", "IMAP port", "setting", "port"),
        ("imap_ssl", "IMAP over TLS", "setting", "flag"),
        ("imap_username", "IMAP user name", "credential", "text"),
        ("imap_password", "IMAP password", "credential", "secret"),
        ("maildir", "Maildir folder", "setting", "text"),
        ("smtp_host", "SMTP server", "setting", "text"),
        ("smtp_port", "SMTP port", "setting", "port"),
        ("smtp_starttls", "SMTP with STARTTLS", "setting", "flag"),
        ("smtp_ssl", "SMTP over TLS", "setting", "flag"),
        ("smtp_username", "SMTP user name", "credential", "text"),
        ("smtp_password", "SMTP password", "credential", "secret"),
    ],
}
PLATFORM_LABELS = dict(Platform.choices)


def _field(label: str, kind: str) -> forms.Field:
    if kind == "secret":
        # Kept in the form after "Test connection", so that "Connect" sends it again.
        widget = forms.PasswordInput(render_value=True)
        return forms.CharField(label=label, required=False, widget=widget)
    if kind == "flag":
        return forms.BooleanField(label=label, required=False)
    if kind == "port":
        return forms.IntegerField(label=label, required=False, min_value=1, max_value=65535)
    if kind == "mailbox":
        return forms.ChoiceField(label=label, choices=[("imap", "IMAP"), ("maildir", "Maildir")])
    return forms.CharField(label=label, required=False, max_length=500)


class AccountForm(forms.Form):
    def __init__(self, platform: str, *args: Any, **kwargs: Any) -> None:
        kwargs["prefix"] = platform
        super().__init__(*args, **kwargs)
        self.platform = platform
        for name, label, _, kind in FIELDS[platform]:
            self.fields[name] = _field(label, kind)

    def account(self) -> ChannelAccount:
        """The account as typed, not saved."""
        values: dict[str, dict[str, Any]] = {"setting": {}, "credential": {}}
        for name, _, where, _ in FIELDS[self.platform]:
            value = self.cleaned_data.get(name)
            if value not in (None, ""):
                values[where][name] = value
        return ChannelAccount(
            platform=self.platform,
            name=onboarding.account_name(self.platform, values["setting"]),
            settings=values["setting"],
            credentials=values["credential"],
        )


@setup_admin_required
@require_http_methods(["GET", "POST"])
def channels(request: HttpRequest) -> HttpResponse:
    """One form per platform, each with "Test connection" and "Connect" (which tests first)."""
    posted = request.POST.get("platform") if request.method == "POST" else None
    account_forms = {
        platform: AccountForm(platform, request.POST if platform == posted else None)
        for platform in FIELDS
    }
    results: dict[str, onboarding.ConnectionTest] = {}
    if posted in account_forms and account_forms[posted].is_valid():
        account = account_forms[posted].account()
        results[posted] = onboarding.test_connection(account)
        if results[posted].ok and request.POST.get("action") == "connect":
            account.save()
            messages.success(request, f"Connected {account.name}. {results[posted].said}")
            return redirect("workspace:setup-channels")
    sections = [
        {
            "platform": platform,
            "label": PLATFORM_LABELS[platform],
            "form": form,
            "result": results.get(platform),
            "connected": ChannelAccount.objects.filter(platform=platform).order_by("name"),
        }
        for platform, form in account_forms.items()
    ]
    return render(request, "workspace/setup_channels.html", {"sections": sections})


urlpatterns = [
    path("setup/", start, name="setup"),
    path("setup/team/", team, name="setup-team"),
    path("setup/agents/", agents, name="setup-agents"),
    path("setup/channels/", channels, name="setup-channels"),
]
