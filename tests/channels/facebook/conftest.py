import pytest
import requests

from channels.models import ChannelAccount
from demo.connect import sandbox_facebook_account


@pytest.fixture
def account(db, sandbox):
    """The sample brand's Facebook page, connected to the sandbox as connect_sandbox does."""
    info = requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).json()
    return ChannelAccount.objects.create(platform="facebook", **sandbox_facebook_account(info))
