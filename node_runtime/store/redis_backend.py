"""The Redis backend: the same sorted map in one Redis database, for nodes on several machines.

This module owns the Redis layout and every Redis command of the store. Under a
``namespace`` prefix there are three kinds of key:

* ``<ns>:keys``   a sorted set of every encoded node key that holds a value, all with
  score 0, so ZRANGEBYLEX walks keys in byte (that is, M collation) order;
* ``<ns>:values`` a hash from encoded node key to value text;
* ``<ns>:lock:<encoded key>`` one string per held lock: the owner token, with a PX lease.

Writes that touch both structures run in MULTI/EXEC or in a Lua script, so readers
never see a key without its value. Increment is a Lua script: exact 64-bit HINCRBY for
int + int, double arithmetic (the same IEEE sum Python computes) otherwise; so ints
beyond 64 bits cannot be incremented here. A lock whose owner process died on this
host is reclaimed at once; an owner on another host is only outlived by its lease.
It must not decode keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import redis

from node_runtime.store.backend import Backend
from node_runtime.store.errors import StoreError
from node_runtime.store.owner import owner_is_dead
from node_runtime.store.values import Number, load_value

_PAGE = 1000
_INT64 = range(-(2**63), 2**63)

_REMOVE_RANGE = """
local total = 0
while true do
  local members = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, 1000)
  if #members == 0 then return total end
  redis.call('HDEL', KEYS[2], unpack(members))
  redis.call('ZREM', KEYS[1], unpack(members))
  total = total + #members
end
"""

# ARGV: member, step text, 'i' (int step) or 'f' (float step). Returns the new value text.
_INCREMENT = """
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current and not tonumber(current) then
  return redis.error_reply('NOTNUMBER ' .. current)
end
local result
if ARGV[3] == 'i' and (not current or string.match(current, '^%-?%d+$')) then
  redis.call('HINCRBY', KEYS[2], ARGV[1], ARGV[2])
  result = redis.call('HGET', KEYS[2], ARGV[1])
else
  local sum = (tonumber(current) or 0) + tonumber(ARGV[2])
  if sum ~= sum or sum == math.huge or sum == -math.huge then
    return redis.error_reply('OVERFLOW ' .. tostring(sum))
  end
  result = string.format('%.17g', sum)
  if not string.find(result, '[%.eE]') then result = result .. '.0' end
  redis.call('HSET', KEYS[2], ARGV[1], result)
end
redis.call('ZADD', KEYS[1], 0, ARGV[1])
return result
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisBackend(Backend):
    """A connection pool to one Redis database, under one key namespace."""

    name = "redis"

    def __init__(self, url: str, namespace: str) -> None:
        if not namespace:
            raise StoreError("redis namespace must be a non-empty string")
        self.url = url
        self.namespace = namespace
        self._keys = f"{namespace}:keys".encode()
        self._values = f"{namespace}:values".encode()
        self._lock_prefix = f"{namespace}:lock:".encode()
        try:
            self._client: redis.Redis[bytes] = redis.Redis.from_url(url, decode_responses=False)
            self._client.ping()
        except (redis.RedisError, ValueError) as exc:
            raise StoreError(f"cannot connect to redis at {url}: {exc}") from exc
        self._remove_range = self._client.register_script(_REMOVE_RANGE)
        self._increment = self._client.register_script(_INCREMENT)
        self._unlock = self._client.register_script(_UNLOCK)
        # redis-py would silently reconnect after close(); a closed store must fail instead.
        self._closed = False

    @contextmanager
    def _translated(self) -> Iterator[redis.Redis[bytes]]:
        if self._closed:
            raise StoreError(f"redis store {self.url} ({self.namespace}) is closed")
        try:
            yield self._client
        except redis.RedisError as exc:
            raise StoreError(f"redis {self.url} ({self.namespace}): {exc}") from exc

    def get(self, key: bytes) -> bytes | None:
        with self._translated() as client:
            value: bytes | None = client.hget(self._values, key)
        return value

    def put(self, key: bytes, value: str) -> None:
        self.write_batch([(key, value)], [])

    def remove(self, key: bytes) -> None:
        self.write_batch([], [key])

    def remove_range(self, low: bytes, high: bytes) -> None:
        with self._translated():
            self._remove_range(keys=[self._keys, self._values], args=[b"[" + low, b"(" + high])

    def keys(self, low: bytes, high: bytes, limit: int, reverse: bool = False) -> list[bytes]:
        with self._translated() as client:
            if reverse:
                found = client.zrevrangebylex(self._keys, b"(" + high, b"[" + low, 0, limit)
            else:
                found = client.zrangebylex(self._keys, b"[" + low, b"(" + high, 0, limit)
        return list(found)

    def items(self, low: bytes, high: bytes) -> list[tuple[bytes, str | bytes]]:
        pairs: list[tuple[bytes, str | bytes]] = []
        bound = b"[" + low
        with self._translated() as client:
            while True:
                members = client.zrangebylex(self._keys, bound, b"(" + high, 0, _PAGE)
                if not members:
                    return pairs
                values = client.hmget(self._values, members)
                # A key removed between the two reads has no value: it is simply gone.
                pairs.extend((m, v) for m, v in zip(members, values, strict=True) if v is not None)
                bound = b"(" + members[-1]

    def write_batch(self, puts: Sequence[tuple[bytes, str]], removes: Sequence[bytes]) -> None:
        with self._translated() as client:
            pipeline = client.pipeline(transaction=True)
            if removes:
                pipeline.hdel(self._values, *removes)
                pipeline.zrem(self._keys, *removes)
            if puts:
                pipeline.hset(self._values, mapping=dict(puts))
                pipeline.zadd(self._keys, {key: 0 for key, _ in puts})
            pipeline.execute()

    def increment(self, key: bytes, by: Number, where: str) -> Number:
        if isinstance(by, int) and by not in _INT64:
            raise StoreError(f"{where}: the redis backend increments by 64-bit ints only")
        kind = b"i" if isinstance(by, int) else b"f"
        try:
            with self._translated():
                text = self._increment(keys=[self._keys, self._values], args=[key, repr(by), kind])
        except StoreError as exc:
            cause = exc.__cause__
            if not isinstance(cause, redis.ResponseError):
                raise
            message = str(cause)
            if message.startswith("NOTNUMBER "):
                current = load_value(message.removeprefix("NOTNUMBER "))
                raise StoreError(
                    f"{where}: cannot increment the non-numeric value {current!r}"
                ) from None
            raise StoreError(f"{where}: increment failed: {message}") from cause
        result = load_value(text)
        if isinstance(result, bool) or not isinstance(result, int | float):
            raise StoreError(f"{where}: increment returned a non-number {result!r}")
        return result

    def try_lock(self, name: bytes, token: str, lease: float | None) -> bool:
        lock_key = self._lock_prefix + name
        lease_ms = None if lease is None else max(1, int(lease * 1000))
        with self._translated() as client:
            if client.set(lock_key, token, nx=True, px=lease_ms):
                return True
            holder = client.get(lock_key)
            if holder is not None and owner_is_dead(holder.decode()):
                self._unlock(keys=[lock_key], args=[holder])
            elif holder is not None:
                return False
            return bool(client.set(lock_key, token, nx=True, px=lease_ms))

    def unlock(self, name: bytes, token: str) -> bool:
        with self._translated():
            return bool(self._unlock(keys=[self._lock_prefix + name], args=[token]))

    def close(self) -> None:
        self._closed = True
        self._client.close()
