import pytest
import requests

from channels_in.facebook import client
from channels_in.models import ChannelAccount


@pytest.fixture
def account(db, sandbox):
    """The sample brand's Facebook page, connected to the sandbox as connect_sandbox does."""
    info = requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).json()
    return ChannelAccount.objects.create(platform="facebook", **client.sandbox_account(info))
