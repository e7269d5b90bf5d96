"""The GS1 mod-10 check digit, written out here so the validators are tested against
an implementation of their own rather than against the library they call."""

from __future__ import annotations


def gs1_check_digit(body: str) -> str:
    """GS1 General Specifications 7.9.1: weights 3, 1, 3, ... from the rightmost digit;
    the check digit brings the weighted sum up to a multiple of ten."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str(-total % 10)
