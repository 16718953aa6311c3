"""What the API reads and writes. Output serializers describe records; input serializers
(``...Input``) check a request's fields before a service acts on them."""

from django.contrib.auth.models import User
from rest_framework import serializers

from cases.models import Attachment, CannedResponse, Case, Message
from customers.models import Customer, Identity
from intake.models import QuarantinedPayload
from staff.models import Team
from staff.names import display_name


class PersonSerializer(serializers.Serializer):
    """A member of staff as other records name them."""

    id = serializers.IntegerField(source="pk")
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: User) -> str:
        return display_name(user)


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "auto_assign"]


class AgentSerializer(PersonSerializer):
    roles = serializers.SerializerMethodField()
    teams = serializers.SerializerMethodField()

    def get_roles(self, user: User) -> list[str]:
        return sorted(group.name for group in user.groups.all())

    def get_teams(self, user: User) -> list[int]:
        profile = getattr(user, "agent_profile", None)
        return sorted(team.pk for team in profile.teams.all()) if profile else []


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Identity
        fields = ["id", "platform", "external_id", "handle", "display_name", "last_seen_at"]


class CustomerSerializer(serializers.ModelSerializer):
    identities = IdentitySerializer(many=True, read_only=True)
    merged_into = serializers.IntegerField(
        source="merged_into_id", allow_null=True, read_only=True
    )

    class Meta:
        model = Customer
        fields = ["id", "display_name", "created_at", "merged_into", "identities"]


class CustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "display_name"]


class CaseSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    team = TeamSerializer(read_only=True, allow_null=True)
    assignee = PersonSerializer(read_only=True, allow_null=True)
    tags = serializers.SerializerMethodField()
    merged_into = serializers.IntegerField(
        source="merged_into_id", allow_null=True, read_only=True
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "subject",
            "status",
            "priority",
            "spam",
            "customer",
            "team",
            "assignee",
            "tags",
            "merged_into",
            "opened_at",
            "last_inbound_at",
            "first_response_at",
            "resolved_at",
            "first_response_due_at",
            "next_response_due_at",
            "resolution_due_at",
        ]

    def get_tags(self, case: Case) -> list[str]:
        return sorted(tag.name for tag in case.tags.all())


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "skipped_reason"]


class MessageSerializer(serializers.ModelSerializer):
    author_identity = IdentitySerializer(read_only=True, allow_null=True)
    author_user = PersonSerializer(read_only=True, allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    text_cut = serializers.SerializerMethodField(
        help_text="The text was stored cut at the length limit; the case export has it whole."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "channel",
            "subject",
            "cc",
            "text",
            "text_cut",
            "sent_at",
            "author_identity",
            "author_user",
            "automated",
            "needs_reply",
            "no_reply_reason",
            "delivery_status",
            "delivery_error",
            "attachments",
        ]

    def get_text_cut(self, message: Message) -> bool:
        return bool(message.full_text)


class CannedResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = CannedResponse
        fields = ["id", "title", "text", "updated_at"]


class QuarantinedSerializer(serializers.ModelSerializer):
    channel_account = serializers.IntegerField(
        source="channel_account_id", allow_null=True, read_only=True
    )

    class Meta:
        model = QuarantinedPayload
        fields = [
            "id",
            "channel_account",
            "source",
            "error",
            "status",
            "attempts",
            "first_seen_at",
            "last_seen_at",
        ]


# Input


class CaseChangeInput(serializers.Serializer):
    """Any of these; each given field is one action, in this order."""

    status = serializers.ChoiceField(choices=Case.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Case.Priority.choices, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=50
    )
    spam = serializers.BooleanField(required=False)
    team = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Move the case to this team's queue, unassigned, as Reassign does "
        "(supervisors).",
    )


class MoveInput(serializers.Serializer):
    """Where a hand-off or reassignment sends the case: a colleague, a team, or both."""

    agent = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    team = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate(self, attrs: dict) -> dict:
        if attrs.get("agent") is None and attrs.get("team") is None:
            raise serializers.ValidationError("Give an agent, a team, or both.")
        return attrs


class ReplyInput(serializers.Serializer):
    text = serializers.CharField(max_length=100_000)
    answering = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="The message answered; the latest customer message by default.",
    )
    subject = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text='An email reply\'s subject; by default (or blank) "Re: " and the subject '
        "answered, with the case reference.",
    )
    cc = serializers.ListField(
        child=serializers.CharField(max_length=254),
        required=False,
        max_length=50,
        help_text="An email reply's Cc addresses.",
    )


class NoteInput(serializers.Serializer):
    text = serializers.CharField(max_length=100_000)


class MergeInput(serializers.Serializer):
    into = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The customer this one becomes part of."
    )
    reason = serializers.CharField(max_length=1000, help_text="Why they are the same person.")
