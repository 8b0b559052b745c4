"""Texts longer than one Telegram message (4,096 characters), split cleanly at line ends."""

from __future__ import annotations

from collections.abc import Iterator

from aiogram.types import Message

TEXT_LIMIT = 4096


def text_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (a stray surrogate counts as one)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` units, cut at line ends; a longer line is cut at a space,
    or anywhere if it has none. Blank lines at a cut are dropped (Telegram trims them)."""
    if text_length(text) <= limit:
        return [text]
    parts: list[str] = []
    lines: list[str] = []
    size = 0
    for line in text.split("\n"):
        for piece in _fit(line, limit):
            length = text_length(piece)
            if lines and size + 1 + length > limit:
                parts.append("\n".join(lines))
                lines, size = [], 0
            size += length + (1 if lines else 0)
            lines.append(piece)
    if lines:
        parts.append("\n".join(lines))
    cleaned = [part.strip("\n") for part in parts]
    return [part for part in cleaned if part.strip()]


def _fit(line: str, limit: int) -> Iterator[str]:
    """`line` in pieces of at most `limit` units, preferring cuts after a space."""
    while text_length(line) > limit:
        cut = max(_prefix_chars(line, limit), 1)
        space = line.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space + 1
        yield line[:cut].rstrip(" ")
        line = line[cut:]
    yield line


def _prefix_chars(line: str, limit: int) -> int:
    """How many characters of `line` fit into `limit` UTF-16 units (never half a pair)."""
    units = 0
    for index, char in enumerate(line):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(line)


async def answer_long(message: Message, text: str) -> None:
    """Reply with `text`, in as many messages as it takes."""
    for part in split_text(text):
        await message.answer(part)
