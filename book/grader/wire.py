"""Messages between the judge and the agent: JSON objects, each preceded by its length.

Four bytes, big-endian, give the length of the UTF-8 JSON that follows. Plain JSON only: nothing
that could run code when read (no pickle), and a cap on the size, so that an agent cannot make the
judge read without end.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_MESSAGE = 16 * 1024 * 1024  # an HTTP body of a course app is a few kilobytes


class WireError(Exception):
    """The other side sent something that is not a message, or too much."""


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    if len(body) > MAX_MESSAGE:
        raise WireError(f"a message of {len(body)} bytes is over the limit of {MAX_MESSAGE}")
    return HEADER.pack(len(body)) + body


def send(fd: int, message: dict[str, Any]) -> None:
    data = memoryview(encode(message))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            if left == size:
                return None  # the other side closed between messages
            raise WireError("the other side closed in the middle of a message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int) -> dict[str, Any] | None:
    """The next message, or None when the other side has closed. Unbuffered: a process that forks
    between two messages leaves the rest of the stream to its child."""
    header = _read_exactly(fd, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_MESSAGE:
        raise WireError(f"a message of {size} bytes is over the limit of {MAX_MESSAGE}")
    body = _read_exactly(fd, size)
    if body is None:
        raise WireError("the other side closed in the middle of a message")
    try:
        message = json.loads(body)
    except ValueError:
        raise WireError("a message that is not JSON") from None
    if not isinstance(message, dict):
        raise WireError("a message that is not a JSON object")
    return message
