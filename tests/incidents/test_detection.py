"""Finding incidents among customer messages, without a database."""

from datetime import UTC, datetime, timedelta

from incidents.detection import Post, Thresholds, features, find

T0 = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
OUTAGE = [
    "is there an outage in Bristol? internet just died",
    "broadband down in Bristol BS3, anyone else?",
    "no internet in Bristol, router light red",
    "Bristol outage?? whole street is off",
    "broadband has just gone in Bristol, any ETA?",
    "internet down in Bristol since 6, rebooted twice",
    "anyone else in Bristol with no internet?",
    "still no internet in Bristol, how long will this be",
]


def posts(texts, *, customers=None, spam=False, step=timedelta(minutes=3)):
    return [
        Post(key=n, customer=customers[n] if customers else n, at=T0 + n * step, text=t, spam=spam)
        for n, t in enumerate(texts)
    ]


def test_codes_places_and_quoted_history():
    found = features("@acme_care Error PAY-503 in Leeds\n\nOn Tue, B <b@x.example> wrote:\n> old")
    assert found.codes == {"PAY-503"}
    assert "leeds" in found.places
    assert "old" not in found.tokens
    assert found.problem


def test_a_burst_about_one_outage_in_one_place_is_proposed():
    found = find(posts(OUTAGE), [], thresholds=Thresholds())
    assert len(found.proposals) == 1
    assert len(found.proposals[0].posts) == len(OUTAGE)
    assert "Bristol" in found.proposals[0].title


def test_unrelated_complaints_do_not_group():
    texts = [
        "where is my order, it was due Monday",
        "can I change my delivery address?",
        "the engineer never turned up today",
        "why did my bill go up this month",
        "how do I cancel my contract",
        "my parcel arrived damaged",
        "what time does the Leeds store open",
        "please call me back about my account",
    ]
    assert find(posts(texts), []).proposals == []


def test_spam_never_counts():
    assert find(posts(OUTAGE, spam=True), []).proposals == []


def test_below_the_threshold_nothing_is_proposed():
    assert find(posts(OUTAGE[:5]), []).proposals == []
    # Enough messages, too few customers.
    assert find(posts(OUTAGE, customers=[0, 1, 2, 0, 1, 2, 0, 1]), []).proposals == []
    # Spread over more than the window.
    assert find(posts(OUTAGE, step=timedelta(hours=1)), []).proposals == []
