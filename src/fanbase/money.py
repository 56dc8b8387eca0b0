"""Money is an int of fen (1 CNY = 100 fen). Rates are Decimals. Never float."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CURRENCY = "CNY"
MAX_AMOUNT_FEN = 10**13  # 100 billion CNY: anything larger is a typo or an attack


def format_fen(fen: int, symbol: str = "¥") -> str:
    """``199900`` -> ``¥1,999.00``; negative amounts keep their sign in front."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{symbol}{yuan:,}.{cents:02d}"


def yuan_to_fen(yuan: str | Decimal) -> int:
    """Parse a yuan amount exactly; more than two decimals is an error, not a rounding."""
    value = Decimal(yuan)
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{yuan} has more than two decimals")
    return int(fen)


def apply_rate(fen: int, rate: Decimal, rounding: str = ROUND_HALF_UP) -> int:
    """``fen * rate`` rounded explicitly (half-up unless told, e.g. ROUND_DOWN to truncate)."""
    return int((Decimal(fen) * rate).quantize(Decimal(1), rounding=rounding))


__all__ = ["CURRENCY", "MAX_AMOUNT_FEN", "ROUND_DOWN", "ROUND_HALF_UP", "apply_rate", "format_fen", "yuan_to_fen"]
