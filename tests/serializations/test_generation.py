"""serializations/generation.py: the random serial alphabet and lengths, and the
sequential counter, below the bulk writer."""

from __future__ import annotations

from collections import Counter

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.exceptions import StateConflict
from serializations.generation import (
    _BYTE_TO_SYMBOL,
    ALPHABET,
    DEFAULT_LENGTH,
    SEQUENCE_EXHAUSTED,
    Sequence,
    random_serials,
    random_space,
)
from serializations.validators import SERIAL_MAX_LENGTH, validate_serial
from tests.batches.factories import BatchFactory
from tests.serializations.factories import make_serials

# Time is measured by the benchmarks; a deadline on a shared machine only adds flakes.
unhurried = hypothesis.settings(deadline=None)

LOOK_ALIKES = "0O1I"
prefixes = st.text(alphabet=ALPHABET, max_size=SERIAL_MAX_LENGTH - 1)


def test_the_alphabet_is_32_distinct_symbols_without_look_alikes():
    assert ALPHABET == "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    assert len(set(ALPHABET)) == 32
    assert not set(LOOK_ALIKES) & set(ALPHABET)


def test_every_symbol_stands_for_as_many_byte_values():
    # 256 byte values onto 32 symbols, 8 each: a uniform byte gives a uniform symbol.
    assert [chr(_BYTE_TO_SYMBOL[b]) for b in range(256)] == [ALPHABET[b % 32] for b in range(256)]
    assert Counter(_BYTE_TO_SYMBOL) == {ord(symbol): 8 for symbol in ALPHABET}


def test_the_default_length_is_twelve():
    assert DEFAULT_LENGTH == 12
    assert random_space(DEFAULT_LENGTH, "") == 32**12


def test_the_random_space_counts_only_what_follows_the_prefix():
    assert random_space(10, "PX") == 32**8
    assert random_space(3, "ABC") == 1


@unhurried
@given(
    count=st.integers(min_value=0, max_value=40),
    length=st.integers(min_value=1, max_value=SERIAL_MAX_LENGTH),
    prefix=prefixes,
)
def test_random_serials_have_the_count_length_prefix_and_alphabet(count, length, prefix):
    hypothesis.assume(len(prefix) < length)

    serials = random_serials(count, length, prefix)

    assert len(serials) == count
    for serial in serials:
        assert len(serial) == length
        assert serial.startswith(prefix)
        assert set(serial[len(prefix) :]) <= set(ALPHABET)
        validate_serial(serial)  # fits GS1 AI 21


def test_random_serials_do_not_repeat_in_a_large_draw():
    serials = random_serials(100_000, DEFAULT_LENGTH)

    assert len(set(serials)) == 100_000
    # 1.2 million symbols: each of the 32 near its share of 37,500.
    counts = Counter("".join(serials))
    assert set(counts) == set(ALPHABET)
    assert all(abs(n - 37_500) < 1_500 for n in counts.values()), counts


# --- the sequential counter -----------------------------------------------------------


@pytest.mark.django_db
def test_a_fresh_sequence_starts_at_one_zero_padded():
    batch = BatchFactory()

    sequence = Sequence(batch.product.gtin, 8, "PX")

    assert sequence.take(3) == ["PX000001", "PX000002", "PX000003"]
    assert sequence.take(1) == ["PX000004"]


@pytest.mark.django_db
def test_a_sequence_continues_after_the_highest_of_its_own_form():
    batch = BatchFactory()
    # Random serials sharing the prefix, and numbers of another width, are not its own.
    make_serials(batch, ["PX0041", "PX0007", "PXZZZZ", "PX99999", "QX9000"])

    sequence = Sequence(batch.product.gtin, 6, "PX")

    assert sequence.take(2) == ["PX0042", "PX0043"]


@pytest.mark.django_db
def test_a_sequence_is_per_gtin():
    batch, other = BatchFactory(), BatchFactory()
    make_serials(other, ["PX0041"])

    assert Sequence(batch.product.gtin, 6, "PX").take(1) == ["PX0001"]


@pytest.mark.django_db
def test_taking_more_than_is_left_is_a_conflict_and_takes_nothing():
    batch = BatchFactory()
    sequence = Sequence(batch.product.gtin, 4, "PX")  # PX01 .. PX99

    assert sequence.left() == 99
    with pytest.raises(StateConflict) as caught:
        sequence.take(100)

    assert caught.value.code == "sequence_exhausted"
    assert caught.value.message == SEQUENCE_EXHAUSTED.format(
        length=4, prefix="PX", gtin=batch.product.gtin, left=99
    )
    assert sequence.take(99)[-1] == "PX99"
    assert sequence.left() == 0
