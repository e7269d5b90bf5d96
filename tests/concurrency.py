"""Run callables at the same moment, one thread each (each with its own connection)."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def together(calls: list[Callable[[], Any]], *, timeout: float = 60) -> list[Any]:
    """The result of each call, in order; a call that raised re-raises here."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # reported by the calling thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a call did not finish"
    if errors:
        raise errors[0]
    return results
