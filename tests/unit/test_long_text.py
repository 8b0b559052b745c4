"""Splitting texts longer than one Telegram message."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.long_text import TEXT_LIMIT, split_text, text_length

lines = st.lists(st.text(st.characters(exclude_characters="\n"), max_size=80), max_size=60)


def _visible(text: str) -> str:
    return re.sub(r"\s", "", text)


def test_a_short_text_is_one_part() -> None:
    assert split_text("Остатки: 5 шт.") == ["Остатки: 5 шт."]


def test_parts_end_at_line_ends_and_are_full() -> None:
    text = "\n".join(f"• ART-{i:05d} — {i} шт." for i in range(1000))
    parts = split_text(text)
    assert len(parts) == -(-text_length(text) // TEXT_LIMIT)
    assert "\n".join(parts) == text
    assert all(part.endswith(" шт.") for part in parts)


def test_a_line_longer_than_a_message_is_cut_between_words() -> None:
    words = [f"слово{i}" for i in range(1500)]
    parts = split_text(" ".join(words))
    assert len(parts) > 1
    assert [w for part in parts for w in part.split(" ")] == words


def test_a_stray_surrogate_is_counted_not_a_crash() -> None:
    assert text_length("\ud800x") == 2
    assert split_text("\ud800" * 10, 4) == ["\ud800" * 4, "\ud800" * 4, "\ud800" * 2]


def test_emoji_count_as_two_units_and_are_never_cut_in_half() -> None:
    text = "😀" * 5000
    parts = split_text(text)
    assert all(text_length(part) <= TEXT_LIMIT for part in parts)
    assert "".join(parts) == text


@settings(max_examples=150, deadline=None)
@given(lines, st.integers(min_value=20, max_value=400))
def test_split_keeps_every_line_whole_and_in_order(source: list[str], limit: int) -> None:
    text = "\n".join(source)
    parts = split_text(text, limit)
    if text_length(text) <= limit:
        assert parts == [text]
        return
    assert all(text_length(part) <= limit and part.strip() for part in parts)
    assert _visible("".join(parts)) == _visible(text)
    if all(text_length(line) <= limit for line in source):
        kept = [line for line in "\n".join(parts).split("\n") if line.strip()]
        assert kept == [line for line in source if line.strip()]
