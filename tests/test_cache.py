"""The cache with Redis unreachable: a miss, never an error, so the web keeps serving."""

import logging

from careinbox.cache import RedisCache
from tests.conftest import free_port


def test_an_unreachable_redis_is_a_miss_and_a_dropped_write(caplog):
    cache = RedisCache(f"redis://127.0.0.1:{free_port()}/0", {"OPTIONS": {}})

    with caplog.at_level(logging.WARNING, logger="careinbox.cache"):
        cache.set("seen", True)
        assert cache.get("seen", "absent") == "absent"
        assert cache.add("queued", True) is False
        assert cache.get_many(["seen", "queued"]) == {}
        assert cache.delete("seen") is False

    assert "Cache get skipped, Redis is unreachable" in caplog.text
