from typing import Any

import pytest

from tests.batches.factories import ProductFactory


@pytest.fixture
def product(db: Any) -> Any:
    return ProductFactory()
