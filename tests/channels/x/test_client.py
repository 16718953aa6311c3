from types import SimpleNamespace
from urllib.parse import unquote

from oauthlib.oauth1.rfc5849 import signature, utils

from channels.models import ChannelAccount
from channels.x.client import XApi
from demo.sandbox.x_api import BRAND

OAUTH1 = {
    "consumer_key": "ck",
    "consumer_secret": "cs",
    "access_token": "1590374211871531008-at",
    "access_token_secret": "ats",
}


def sent_requests(api: XApi) -> list:
    seen: list = []
    api.client.session.hooks["response"].append(lambda r, *args, **kwargs: seen.append(r.request))
    return seen


def test_requests_go_to_the_accounts_api_base_with_its_bearer_token(sandbox):
    account = ChannelAccount(
        platform="x",
        name="@acme_care",
        settings={"api_base": sandbox.url},
        credentials={"bearer_token": "token-1"},
    )
    api = XApi(account)
    seen = sent_requests(api)

    assert api.brand_id() == BRAND["id"]

    assert [r.url for r in seen] == [f"{sandbox.url}/2/users/me"]
    assert seen[0].headers["Authorization"] == "Bearer token-1"


def test_oauth1_requests_are_signed_for_the_host_they_reach(sandbox):
    account = ChannelAccount(
        platform="x", name="@acme_care", settings={"api_base": sandbox.url}, credentials=OAUTH1
    )
    api = XApi(account)
    seen = sent_requests(api)

    api.brand_id()

    [request] = seen
    header = request.headers["Authorization"].decode()
    oauth = dict(utils.parse_authorization_header(header))
    base = signature.signature_base_string(
        request.method,
        signature.base_string_uri(request.url),
        signature.normalize_parameters(
            signature.collect_parameters(
                headers={"Authorization": header}, exclude_oauth_signature=True
            )
        ),
    )
    assert request.url == f"{sandbox.url}/2/users/me"
    secrets = SimpleNamespace(client_secret="cs", resource_owner_secret="ats")
    expected = signature.sign_hmac_sha1_with_client(base, secrets)
    assert unquote(oauth["oauth_signature"]) == expected
