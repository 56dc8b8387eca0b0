from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fanbase.money import apply_rate, format_fen, yuan_to_fen


def test_format_fen() -> None:
    assert format_fen(199900) == "¥1,999.00"
    assert format_fen(5) == "¥0.05"
    assert format_fen(-123456) == "-¥1,234.56"


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_yuan_round_trip(fen: int) -> None:
    assert yuan_to_fen(format_fen(fen, symbol="").replace(",", "")) == fen


def test_yuan_with_more_than_two_decimals_is_refused() -> None:
    with pytest.raises(ValueError):
        yuan_to_fen("1.005")


def test_rates_round_explicitly() -> None:
    assert apply_rate(1001, Decimal("0.5")) == 501  # half-up
    assert apply_rate(1001, Decimal("0.5"), ROUND_DOWN) == 500
