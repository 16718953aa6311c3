"""How customers felt: the customer messages received in the range, by channel and by
sentiment as ingest read it (``routing.sentiment``), and the share of unhappy ones."""

from collections import defaultdict

from django.db.models import Count

from cases.models import Message
from reporting.figures import Cell, Column, Filters, Table, channel_label

SENTIMENTS = [
    (Message.Sentiment.NEGATIVE, "Negative"),
    (Message.Sentiment.NEUTRAL, "Neutral"),
    (Message.Sentiment.POSITIVE, "Positive"),
    ("", "Not scored"),
]


def sentiment(filters: Filters) -> Table:
    """Customer messages sent in the range on the counted cases, a row a channel and a
    total, a column a sentiment, and the share of the scored ones that are negative."""
    counts = (
        Message.objects.filter(
            filters.counted_q("case__"),
            direction=Message.Direction.INBOUND,
            sent_at__gte=filters.since,
            sent_at__lt=filters.until,
        )
        .values("channel", "sentiment")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_channel: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in counts:
        by_channel[row["channel"]][row["sentiment"]] += row["n"]
        by_channel[""][row["sentiment"]] += row["n"]

    def cells(label: str, found: dict[str, int]) -> list[Cell]:
        scored = sum(found[value] for value, _ in SENTIMENTS if value)
        negative = found[Message.Sentiment.NEGATIVE]
        share = 100 * negative / scored if scored else None
        return [Cell(label), *(Cell(found[value]) for value, _ in SENTIMENTS), Cell(share)]

    channels = sorted(c for c in by_channel if c)
    rows = [cells(channel_label(c), by_channel[c]) for c in channels]
    if rows:
        rows.append(cells("All channels", by_channel[""]))
    return Table(
        "sentiment",
        "Customer messages by sentiment",
        [
            Column("Channel"),
            *(Column(label, "count") for _, label in SENTIMENTS),
            Column("Negative share", "percent"),
        ],
        rows,
        note="Negative share: of the messages scored. Spam and merged cases are left out.",
    )
