"""The cache backend: Redis, which holds only what it shares or speeds up (who is on a case,
when an agent was last seen, whether a drain is queued), so while Redis cannot be reached
the web goes on serving: reads miss and writes are dropped, with a warning in the log."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from django.core.cache.backends import redis as django_redis

logger = logging.getLogger(__name__)


@contextmanager
def _unless_unreachable(operation: str) -> Iterator[None]:
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        logger.warning("Cache %s skipped, Redis is unreachable: %s", operation, exc)


class _Client(django_redis.RedisCacheClient):
    """Each operation, or what it gives when Redis is unreachable. ``incr`` and ``clear``
    still raise: nothing here counts on the cache, and clearing is an admin's act."""

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        with _unless_unreachable("add"):
            return super().add(key, value, timeout)
        return False

    def get(self, key: Any, default: Any) -> Any:
        with _unless_unreachable("get"):
            return super().get(key, default)
        return default

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        with _unless_unreachable("set"):
            super().set(key, value, timeout)

    def touch(self, key: Any, timeout: Any) -> bool:
        with _unless_unreachable("touch"):
            return super().touch(key, timeout)
        return False

    def delete(self, key: Any) -> bool:
        with _unless_unreachable("delete"):
            return super().delete(key)
        return False

    def get_many(self, keys: Any) -> dict[Any, Any]:
        with _unless_unreachable("get_many"):
            return super().get_many(keys)
        return {}

    def has_key(self, key: Any) -> bool:
        with _unless_unreachable("has_key"):
            return super().has_key(key)
        return False

    def set_many(self, data: Any, timeout: Any) -> None:
        with _unless_unreachable("set_many"):
            super().set_many(data, timeout)

    def delete_many(self, keys: Any) -> None:
        with _unless_unreachable("delete_many"):
            super().delete_many(keys)


class RedisCache(django_redis.RedisCache):
    """Django's Redis cache, except that an unreachable Redis is a miss, not an error."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _Client
