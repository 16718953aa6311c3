import socket
import threading
import time

import pytest

from channels.email import CHANNEL
from channels.email.client import mailbox_name
from channels.errors import FetchError
from channels.models import ChannelAccount


@pytest.fixture
def silent_server():
    """A server that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in accepted:
        connection.close()


def test_an_imap_server_that_never_answers_is_a_fetch_error_after_the_timeout(silent_server):
    account = ChannelAccount(
        platform="email",
        name="care@acme-home.example",
        settings={
            "mailbox": "imap",
            "imap_host": "127.0.0.1",
            "imap_port": silent_server,
            "timeout": 0.3,
        },
    )
    started = time.monotonic()

    with pytest.raises(FetchError, match=r"Cannot connect to IMAP server .*timed out"):
        list(CHANNEL.poll(account))
    assert time.monotonic() - started < 2


def test_an_unknown_mailbox_type_is_a_fetch_error():
    account = ChannelAccount(platform="email", name="x", settings={"mailbox": "pop3"})

    with pytest.raises(FetchError, match="unknown mailbox type 'pop3'"):
        list(CHANNEL.poll(account))


def test_folder_names_are_quoted_in_imaps_modified_utf7():
    assert mailbox_name("INBOX") == '"INBOX"'
    assert mailbox_name("Éléments envoyés") == '"&AMk-l&AOk-ments envoy&AOk-s"'
    assert mailbox_name('Tom & "Jerry"') == '"Tom &- \\"Jerry\\""'
    assert mailbox_name("台北") == '"&U,BTFw-"'
