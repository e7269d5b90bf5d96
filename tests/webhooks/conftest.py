from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    """Start more receivers with ``receivers.append(Receiver().start())``."""
    started: list[Receiver] = []
    yield started
    for one in started:
        one.stop()
