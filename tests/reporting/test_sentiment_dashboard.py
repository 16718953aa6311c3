"""The Sentiment dashboard counts the customer messages of the range by channel and
sentiment, leaving spam out."""

import csv
import io
from datetime import timedelta

from cases.models import Case, Message
from tests.conftest import client_for
from tests.factories import T0


def test_messages_are_counted_by_channel_and_sentiment_with_the_negative_share(
    ingest, manager, agent
):
    feelings = [
        ("x.mention", "neg"),
        ("x.mention", "neg"),
        ("x.mention", "pos"),
        ("email", "neu"),
        ("email", ""),
        ("facebook.comment", "neg"),
    ]
    for n, (channel, feeling) in enumerate(feelings):
        at = T0 + timedelta(minutes=n)  # the factory's own times run on from test to test
        message = ingest(channel=channel, text=f"text {len(feeling)}", sent_at=at).message
        Message.objects.filter(pk=message.pk).update(sentiment=feeling)
    spam = ingest(channel="x.mention", text="spam", sent_at=T0).message
    Message.objects.filter(pk=spam.pk).update(sentiment="neg")
    Case.objects.filter(pk=spam.case_id).update(spam=True)
    day = T0.date().isoformat()

    response = client_for(manager).get(
        "/dashboards/sentiment/", {"start": day, "end": day, "export": "sentiment"}
    )

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["Channel", "Negative", "Neutral", "Positive", "Not scored", "Negative share"],
        ["Email", "0", "1", "0", "1", "0.0"],
        ["Facebook comment", "1", "0", "0", "0", "100.0"],
        ["X mention", "2", "0", "1", "0", "66.7"],
        ["All channels", "3", "1", "1", "1", "60.0"],
    ]
    assert client_for(agent).get("/dashboards/sentiment/").status_code == 403
    page = client_for(manager).get("/dashboards/sentiment/", {"start": day, "end": day})
    assert "Customer messages by sentiment" in page.content.decode()
