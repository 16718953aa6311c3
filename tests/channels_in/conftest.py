import socket

import pytest

from channels_in.sample import DEMO_TRAFFIC
from channels_in.sandbox.server import Sandbox


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sandbox(tmp_path):
    """A running platform sandbox on 127.0.0.1 with an empty state, its Maildir in tmp_path."""
    running = Sandbox(maildir=tmp_path / "sandbox-maildir", smtp_port=free_port()).start()
    yield running
    running.stop()


@pytest.fixture
def demo_traffic_lines():
    return DEMO_TRAFFIC.read_bytes().splitlines()
