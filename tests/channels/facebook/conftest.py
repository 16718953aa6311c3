import pytest


@pytest.fixture
def account(facebook_account):
    """The sample brand's Facebook page, connected to the sandbox (tests/conftest.py)."""
    return facebook_account
