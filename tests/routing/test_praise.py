"""Reading praise: a warm word about a named person, store or team."""

import pytest

from routing.models import Store
from routing.praise import StaffName, find_praise
from staff.models import Team


def praised(text: str, **kwargs) -> str:
    found = find_praise(text, **kwargs)
    return found.text if found else ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Priya at the Norwich store was so patient with my questions.", "Priya (Norwich store)"),
        ("Big thanks to Omar on the tills, lovely chap.", "Omar (tills)"),
        ("Ben on your phone line was really helpful today.", "Ben (phone support)"),
        ("Ellie from your billing team sorted it in minutes, brilliant.", "Ellie (billing team)"),
        ("Tariq the engineer was spot on and tidied up after.", "Tariq (engineer)"),
        ("Kasia and her colleague were careful with the stairs. Thank you!", "Kasia"),
        ("Thank you Fran, really appreciate the quick help.", "Fran"),
        ("Thanks Noor for all your patience x", "Noor"),
        ("Credit where it's due, the delivery team were excellent.", "delivery team"),
        ("The installation team in Cardiff were fantastic.", "Cardiff installation team"),
        ("Shout out to Dev on the @brand returns team, a star.", "Dev (returns team)"),
    ],
)
def test_praise_of_a_named_person_or_team(text, expected):
    assert praised(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for sorting my order, great service.",  # the brand, nobody named
        "Joanne never called back and I am still waiting.",  # a complaint naming someone
        "My dad Steve was brilliant at fixing it himself in the end.",  # family
        "Thanks Jo, will do x",  # only answering a reply
        "Thanks, that's really helpful. When will it arrive?",
        "Dear team,\n\nMy order 1234 is late again.\n\nMany thanks,\nGwen Harlow",  # signature
        "Kim at the Leeds store was rude and not helpful at all.",
    ],
)
def test_not_praise(text):
    assert praised(text) == ""


def test_a_staff_member_is_recognised_by_first_name():
    lee = StaffName(user_id=7, display_name="Jo Lee", team_ids=(3,), team_names=("Care",))
    found = find_praise("Jo was brilliant, sorted it in minutes.", staff_names=[lee])
    assert found is not None and found.staff == lee and found.text == "Jo (Care)"


def test_a_store_is_matched_with_its_team(db):
    team = Team.objects.create(name="Leeds store")
    store = Store.objects.create(name="White Rose", city="Leeds", team=team)
    found = find_praise(
        "Lindsey at the White Rose store was lovely.", stores=[store], teams=[team]
    )
    assert found is not None
    assert (found.person, found.store, found.team) == ("Lindsey", store, team)
    assert found.text == "Lindsey (White Rose store)"
