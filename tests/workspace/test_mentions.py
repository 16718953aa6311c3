"""Mentions marked in timeline texts, with everything else escaped."""

import pytest

from workspace.mentions import colleagues_named, mention_html

JO = {"jo": "Jo Lee"}


def test_a_colleague_named_in_a_note_is_marked_with_their_name():
    html = mention_html("Ask @jo about the refund", colleagues=JO)

    assert html == 'Ask <mark class="mention" title="Jo Lee">@jo</mark> about the refund'


def test_a_name_ends_at_a_full_stop_and_any_case_names_the_colleague():
    html = mention_html("Thanks @Jo. And @nobody, @jo-", colleagues=JO)

    assert html == (
        'Thanks <mark class="mention" title="Jo Lee">@Jo</mark>. And @nobody, '
        '<mark class="mention" title="Jo Lee">@jo</mark>-'
    )


def test_in_a_customers_message_x_handles_are_marked_and_link_nowhere():
    html = mention_html("@acme_care my order (@acme_help) is late!\nhttps://example.com/x")

    assert html == (
        '<mark class="mention">@acme_care</mark> my order '
        '(<mark class="mention">@acme_help</mark>) is late!<br>'
        '<a href="https://example.com/x" rel="nofollow">https://example.com/x</a>'
    )


@pytest.mark.parametrize(
    "text",
    [
        "mail jo@example.com",
        "see https://x.com/@acme_care",
        "@waytoolonghandle_1",  # 18 characters: no X handle
        "a@b",
    ],
)
def test_addresses_links_and_impossible_handles_are_no_mentions(text):
    assert "<mark" not in mention_html(text)
    assert "<mark" not in mention_html(text, colleagues={"example": "E", "b": "B"})


@pytest.mark.parametrize(
    ("colleagues", "title"), [(None, ""), (JO, ' title="Jo Lee"')], ids=["message", "note"]
)
def test_hostile_text_stays_text(colleagues, title):
    html = mention_html(
        '@<script>alert(1)</script> <b>@jo</b> <img src=x onerror="@jo">', colleagues=colleagues
    )

    mark = f'<mark class="mention"{title}>@jo</mark>'
    assert html == (
        f"@&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;{mark}&lt;/b&gt; "
        f"&lt;img src=x onerror=&quot;{mark}&quot;&gt;"
    )


def test_a_colleagues_name_is_escaped_in_the_title():
    html = mention_html("@jo", colleagues={"jo": '"><script>x</script>'})

    assert html == (
        '<mark class="mention" title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;">@jo</mark>'
    )


@pytest.mark.django_db
def test_only_active_users_named_are_colleagues(agent, other_agent, django_assert_num_queries):
    other_agent.is_active = False
    other_agent.save()

    with django_assert_num_queries(1):
        named = colleagues_named(["ask @JO", "and @priya", "@ghost"])
    with django_assert_num_queries(0):
        assert colleagues_named(["no one", "mail jo@example.com"]) == {}

    assert named == {"jo": "Jo Lee"}
