"""facebook-sdk's ``GraphAPI``, made to speak today's Graph API and CareInbox's errors.

facebook-sdk 3.1.0 (2018) refuses Graph API versions after 3.1, which Facebook retired long
ago, and always calls ``facebook.FACEBOOK_GRAPH_URL``. This subclass sets a current version
and sends requests to the account's base URL (the sandbox in tests), while facebook-sdk's own
``GraphAPI.request`` still builds every request and parses every answer. Its failures become
``RateLimited`` or ``FetchError``; a refusal stays a ``facebook.GraphAPIError``.
"""

import json
import math
import re
from datetime import datetime, timedelta
from typing import Any

import facebook
import requests
from django.utils import timezone

from channels.errors import FetchError, RateLimited

GRAPH_BASE = "https://graph.facebook.com/"
GRAPH_VERSION = "v25.0"
TIMEOUT_SECONDS = 10.0

# Graph's throttling error codes: application (4), user (17), Page (32), per-API (613), and
# the Business Use Case range a Page access token meets (80001 Pages, 80006 Messenger, ...).
# https://developers.facebook.com/docs/graph-api/overview/rate-limiting
RATE_LIMIT_CODES = {4, 17, 32, 613}
BUSINESS_USE_CASE_CODES = range(80001, 80015)
# Headers whose JSON may carry ``estimated_time_to_regain_access``, in minutes.
USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Page-Usage")
# When a throttled answer does not say how long to wait, and the longest wait believed.
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)
LONGEST_RATE_LIMIT_WAIT = timedelta(days=1)

_VERSION = re.compile(r"^v?(\d+)\.(\d+)$")


class _GraphSession:
    """What facebook-sdk takes as its ``session``: sends its requests to ``base_url`` and
    keeps the last answer.

    facebook-sdk concatenates the fixed ``FACEBOOK_GRAPH_URL`` with the path and returns only
    the parsed body; the status and the rate-limit headers are read from ``last_response``.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.session = requests.Session()
        self.last_response: requests.Response | None = None

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if url.startswith(facebook.FACEBOOK_GRAPH_URL):
            url = self.base_url + url[len(facebook.FACEBOOK_GRAPH_URL) :]
        self.last_response = None
        self.last_response = self.session.request(method, url, **kwargs)
        return self.last_response


class Graph(facebook.GraphAPI):
    """A Graph API client for one access token, at ``base_url`` and Graph ``version``.

    Every call raises ``RateLimited`` when throttled, ``FetchError`` for failures that may
    pass (5xx, timeouts, connection errors, broken answers) and ``facebook.GraphAPIError``
    when Graph refuses the request (a 4xx with Graph's error code and message).
    """

    def __init__(
        self,
        *,
        access_token: str,
        base_url: str = GRAPH_BASE,
        version: str = GRAPH_VERSION,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        match = _VERSION.match(str(version).strip())
        if match is None:
            raise ValueError(f"Graph API version {version!r} is not like {GRAPH_VERSION!r}.")
        self.http = _GraphSession(base_url)
        super().__init__(access_token=access_token, timeout=timeout, session=self.http)
        self.version = f"v{match[1]}.{match[2]}"

    def request(
        self,
        path: str,
        args: dict[str, Any] | None = None,
        post_args: dict[str, Any] | None = None,
        files: Any = None,
        method: str | None = None,
    ) -> Any:
        what = f"{method or ('POST' if post_args is not None else 'GET')} /{path}"
        try:
            result = super().request(path, args, post_args, files, method)
        except requests.Timeout:
            raise FetchError(
                f"The Graph API did not answer {what} within {self.timeout} s."
            ) from None
        except requests.JSONDecodeError:
            raise FetchError(f"The Graph API answered {what} with broken JSON.") from None
        except requests.RequestException as exc:
            # Not the exception's text: it quotes the URL, access token included.
            raise FetchError(
                f"Could not reach the Graph API at {self.http.base_url} for {what} "
                f"({type(exc).__name__})."
            ) from None
        except KeyError:
            # facebook-sdk reads the Content-Type header without checking that it is there.
            raise FetchError(f"The Graph API answered {what} without a Content-Type.") from None
        except facebook.GraphAPIError as exc:
            raise self._translate(exc, what) from exc
        status = self._status()
        if status == 429:
            raise self._rate_limited(what, "HTTP 429")
        if status >= 500:
            raise FetchError(f"The Graph API failed {what} with HTTP {status}.")
        return result

    def _status(self) -> int:
        response = self.http.last_response
        return response.status_code if response is not None else 0

    def _translate(self, exc: facebook.GraphAPIError, what: str) -> Exception:
        status = self._status()
        code = exc.code if isinstance(exc.code, int) else None
        if status == 429 or code in RATE_LIMIT_CODES or code in BUSINESS_USE_CASE_CODES:
            return self._rate_limited(what, str(exc.message))
        transient = isinstance(exc.result, dict) and _error_field(exc.result, "is_transient")
        if 400 <= status < 500 and not transient:
            return exc
        return FetchError(f"The Graph API failed {what} with HTTP {status}: {exc.message}")

    def _rate_limited(self, what: str, reason: str) -> RateLimited:
        response = self.http.last_response
        headers = response.headers if response is not None else {}
        retry_at = timezone.now() + _wait(headers)
        return RateLimited(
            f"The Graph API throttled {what}: {reason}. Calls resume at "
            f"{retry_at:%Y-%m-%d %H:%M:%S %Z}.",
            retry_at=retry_at,
        )


def _error_field(result: dict[str, Any], name: str) -> Any:
    error = result.get("error")
    return error.get(name) if isinstance(error, dict) else None


def _wait(headers: Any) -> timedelta:
    """How long Graph says to wait: the largest ``estimated_time_to_regain_access`` (minutes)
    in its usage headers, else ``Retry-After`` (seconds), else a default."""
    minutes = [m for name in USAGE_HEADERS for m in _regain_minutes(headers.get(name))]
    retry_after = headers.get("Retry-After", "").strip()
    if minutes and max(minutes) > 0:
        wait = timedelta(minutes=min(max(minutes), LONGEST_RATE_LIMIT_WAIT / timedelta(minutes=1)))
    elif retry_after.isdecimal():
        wait = timedelta(seconds=min(int(retry_after), LONGEST_RATE_LIMIT_WAIT.total_seconds()))
    else:
        wait = DEFAULT_RATE_LIMIT_WAIT
    return wait


def _regain_minutes(header: str | None) -> list[float]:
    """``estimated_time_to_regain_access`` values anywhere in a usage header's JSON: the
    Business Use Case header maps object ids to lists of usage objects; X-App-Usage is one."""
    if not header:
        return []
    try:
        usage = json.loads(header)
    except ValueError:
        return []
    found: list[float] = []
    stack = [usage]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            value = item.get("estimated_time_to_regain_access")
            if (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
            ):
                found.append(float(value))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def graph_time(value: str) -> datetime:
    """A Graph API time such as ``2021-02-04T15:16:24+0000``. Raises ``ValueError``."""
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError(f"Time {value!r} has no time zone.")
    return at
