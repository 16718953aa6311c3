"""The composer offers first the canned responses that fit what the customer wrote."""

import re

from cases.canned import best_fitting
from cases.models import CannedResponse
from tests.conftest import client_for

RESPONSES = [
    ("Broadband outage", "Hi {first_name}, there is an outage in your area; engineers are on it."),
    ("Delivery delays", "Sorry {first_name}, deliveries are running late this week."),
    ("Refund timescales", "Hi {first_name}, refunds reach your card within 5 working days."),
    ("Reembolso", "Hola {first_name}, el reembolso llegará a su tarjeta en 5 días hábiles."),
    ("Store opening hours", "Our stores open 9 to 5:30, Sundays 10 to 4."),
]


def canned(db):
    return [CannedResponse.objects.create(title=t, text=x) for t, x in RESPONSES]


def titles(responses):
    return [r.title for r in responses]


def test_the_response_sharing_the_messages_words_comes_first(db):
    choice = best_fitting(canned(db), "Where is my refund? It's been ten days since I returned it")
    assert titles(choice.fitting) == ["Refund timescales"]
    assert titles(choice.others) == [
        "Broadband outage",
        "Delivery delays",
        "Reembolso",
        "Store opening hours",
    ]


def test_a_response_in_another_language_does_not_fit(db):
    spanish = best_fitting(canned(db), "¿Dónde está mi reembolso? Pagué hace diez días")
    assert titles(spanish.fitting) == ["Reembolso"]


def test_the_cases_tags_count_towards_the_fit(db):
    choice = best_fitting(canned(db), "Any news?", tags=["outage"])
    assert titles(choice.fitting) == ["Broadband outage"]


def test_the_composer_lists_the_fitting_response_first(ingest, agent):
    canned(None)
    case = ingest(channel="x.dm", text="No internet since 6am, is there an outage?").message.case
    picker = client_for(agent).get(f"/cases/{case.pk}/canned/picker/").content.decode()
    options = re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", picker)
    assert options[0] == "Broadband outage"
    assert '<optgroup label="Fits the message">' in picker
