"""The whole report suite (tests/unit/test_report.py) again, on core.report's Python loops:
what runs where core/_report_speedups.c was not compiled, and the reference the C is held
to (tests/unit/test_report_speedups.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import core.report as report_module
from tests.unit.test_report import *  # noqa: F403  (collected again, under the fixture below)


@pytest.fixture(scope="module", autouse=True)
def python_loops() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_module, "_add_keyed_orders", report_module._add_keyed_orders_python)
        patch.setattr(report_module, "_add_size_rows", report_module._add_size_rows_python)
        patch.setattr(
            report_module, "_place_remains_rows", report_module._place_remains_rows_python
        )
        patch.setattr(report_module, "_place_cards", report_module._place_cards_python)
        yield


def test_the_report_here_is_built_by_the_python_loops() -> None:
    assert report_module._add_size_rows is report_module._add_size_rows_python
    assert report_module._add_keyed_orders is report_module._add_keyed_orders_python
    assert report_module._place_remains_rows is report_module._place_remains_rows_python
    assert report_module._place_cards is report_module._place_cards_python
