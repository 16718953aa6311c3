"""Supervisors keep the spam list on its page; what they block is spam as it arrives."""

from cases.models import SpamBlock
from tests.conftest import client_for
from tests.factories import AuthorFactory


def test_a_supervisor_blocks_a_domain_and_its_links_are_spam_from_then_on(supervisor, ingest):
    page = client_for(supervisor)
    added = page.post(
        "/spam-list/", {"kind": "domain", "value": "WWW.Cheap-Follows.example", "note": "bots"}
    )
    assert added.status_code == 302
    listing = page.get("/spam-list/").content.decode()
    assert "cheap-follows.example" in listing and "bots" in listing

    message = ingest(text="@acme_care great deals at https://go.cheap-follows.example/x").message
    assert message.spam_reason == "Blocked domain go.cheap-follows.example"


def test_a_value_that_names_nothing_is_refused_with_what_was_typed_kept(supervisor):
    page = client_for(supervisor)
    refused = page.post("/spam-list/", {"kind": "author", "value": "not an author", "note": "x"})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "does not name an author" in body
    assert 'value="not an author"' in body
    assert not SpamBlock.objects.exists()


def test_an_entry_is_removed_and_its_author_writes_freely_again(supervisor, ingest):
    entry = SpamBlock.objects.create(kind="author", value="@loudbot")
    author = {"handle": "loudbot", "external_id": "777", "display_name": "Loud Bot"}
    assert ingest(text="@acme_care hello", author=AuthorFactory(**author)).message.spam_reason
    client_for(supervisor).post(f"/spam-list/{entry.pk}/remove/")
    again = ingest(text="@acme_care my router is down", author=AuthorFactory(**author)).message
    assert again.spam_reason == ""
