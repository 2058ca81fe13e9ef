"""Framing of master <-> worker messages over a socketpair: 4-byte length, then a pickle.

Both ends are our own processes started from the same installation, so pickle is safe
here and is the fastest codec Python has for small tuples of dicts and strings. This
module owns the frame format only; it must not know what the messages mean.
"""

from __future__ import annotations

import pickle
import socket
import struct
from collections.abc import Callable
from typing import Any

HEADER = struct.Struct("!I")
MAX_FRAME = 256 * 1024 * 1024
PROTOCOL = pickle.HIGHEST_PROTOCOL


def pack(message: tuple[Any, ...]) -> bytes:
    """One frame: length header plus the pickled message."""
    body = pickle.dumps(message, protocol=PROTOCOL)
    return HEADER.pack(len(body)) + body


class FrameReader:
    """Accumulates bytes and yields whole messages; used by the asyncio side."""

    __slots__ = ("_buffer", "_deliver")

    def __init__(self, deliver: Callable[[tuple[Any, ...]], None]) -> None:
        self._buffer = bytearray()
        self._deliver = deliver

    def feed(self, data: bytes) -> None:
        """Add bytes; deliver every complete frame in order."""
        buffer = self._buffer
        buffer += data
        offset = 0
        size = len(buffer)
        while size - offset >= 4:
            (length,) = HEADER.unpack_from(buffer, offset)
            if length > MAX_FRAME:
                raise ValueError(f"frame of {length} bytes exceeds the limit")
            end = offset + 4 + length
            if end > size:
                break
            message = pickle.loads(buffer[offset + 4 : end])  # noqa: S301 - our own processes
            offset = end
            self._deliver(message)
        if offset:
            del buffer[:offset]


class BlockingChannel:
    """The worker's end: blocking send and receive on its socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()

    def send(self, message: tuple[Any, ...]) -> None:
        """Send one message, blocking until the kernel has it."""
        self._sock.sendall(pack(message))

    def recv(self) -> tuple[Any, ...] | None:
        """Next message, or None when the master has gone."""
        while True:
            if len(self._buffer) >= 4:
                (length,) = HEADER.unpack_from(self._buffer, 0)
                if len(self._buffer) >= 4 + length:
                    body = bytes(self._buffer[4 : 4 + length])
                    del self._buffer[: 4 + length]
                    message: tuple[Any, ...] = pickle.loads(body)  # noqa: S301 - our own master
                    return message
            try:
                chunk = self._sock.recv(1 << 16)
            except ConnectionError:
                return None
            if not chunk:
                return None
            self._buffer += chunk

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()
