"""Builders for inbound messages: each test sets only the fields that matter to it."""

import json
from datetime import UTC, datetime, timedelta

import factory

from channels.inbound import InboundAuthor, InboundMessage

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class AuthorFactory(factory.Factory):
    class Meta:
        model = InboundAuthor

    external_id = factory.Sequence(lambda n: str(1000 + n))
    handle = factory.LazyAttribute(lambda a: f"user{a.external_id}")
    display_name = factory.LazyAttribute(lambda a: f"Customer {a.external_id}")
    follower_count = 10


class InboundFactory(factory.Factory):
    class Meta:
        model = InboundMessage

    channel = "x.mention"
    external_id = factory.Sequence(lambda n: f"m{n}")
    author = factory.SubFactory(AuthorFactory)
    sent_at = factory.Sequence(lambda n: T0 + timedelta(minutes=n))
    text = factory.LazyAttribute(lambda m: f"@acme_care message {m.external_id}")
    raw = factory.LazyAttribute(lambda m: json.dumps({"id": m.external_id}).encode())
