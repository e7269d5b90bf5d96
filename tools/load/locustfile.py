"""The ``make load`` traffic: plant systems, QA and readers working at once.

Run by ``tools/load/run.py`` (``locust --headless``), which sets ``LOAD_SETUP`` (the
seeded users, sites, product, batches and serial codes, as JSON) and ``LOAD_JOURNAL``
(where every request this file makes is written, one JSON object a line).

Each request carries its own ``X-Request-ID`` (the service keeps a well-formed client id),
so a request can be found in the audit trail even when its answer never arrived. Each is
journalled with its outcome:

- ``ok``: 2xx;
- ``expected``: a 4xx the scenario allows (a lost race or a state that moved on answers
  409, a move of serials already packed 400, a wrong password 401, a locked-out sign-in
  429); counted apart from failures, and marked successful in locust;
- ``failed``: anything else (another 4xx, any 5xx, no answer); a failure in locust too.

Users:

- ``Operator`` (site-scoped ``operator``): plans a batch, starts it, generates 100 serials,
  packs half of them (now and then a second station packs some again, with one more
  serial: 400, and none of them moves), completes it, and hands it to QA; now and then
  two line controllers start the same seeded batch at once (one wins, the other: 409).
- ``QualityAssurance`` (global ``qa``): inspects batches in production or quarantine
  (create, then complete with a signature; a batch another QA user released or rejected
  meanwhile answers 409), releases passed batches (409 when an earlier inspection
  failed), rejects the others; sometimes retries a release already made (409).
- ``Reader`` (global ``auditor``): batch lists with filters, batch details.
- ``Scanner`` (site-scoped ``operator``, as a packaging line scanner): verifies packs.
- ``SignIn``: signs in; sometimes with a wrong password for a dedicated account, which
  the lockout answers with 401 then 429.

Batches move between users through module-level queues (locust runs every user as a
greenlet of one process).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import gevent
from locust import HttpUser, between, events, task

SETUP: dict[str, Any] = json.loads(os.environ.get("LOAD_SETUP", "{}"))
JOURNAL_PATH = os.environ.get("LOAD_JOURNAL", "bench-results/load-journal.jsonl")
PASSWORD: str = SETUP.get("password", "")

_journal_lock = threading.Lock()
_journal: Any = None

# Batches handed from operators to QA, and seeded planned batches for start races.
in_production: deque[dict[str, Any]] = deque(maxlen=500)
quarantine: deque[dict[str, Any]] = deque(maxlen=500)
released: deque[str] = deque(maxlen=100)
race_pool: dict[str, list[str]] = {
    site: list(batches) for site, batches in SETUP.get("race_batches", {}).items()
}
# Codes of serials for the scanners: the seeded released batch, plus fresh ones.
scan_codes: list[str] = list(SETUP.get("codes", []))
_serial_counter = iter(range(10**9))


@events.quitting.add_listener
def _close_journal(environment: Any, **kwargs: Any) -> None:
    with _journal_lock:
        if _journal is not None:
            _journal.close()


@events.user_error.add_listener
def _task_error(user_instance: Any, exception: Exception, tb: Any, **kwargs: Any) -> None:
    # A task that raised is a failure of the run too, not only a line in locust's log.
    journal(
        {
            "method": "",
            "path": "",
            "name": "(a task raised)",
            "kind": "",
            "request_id": "",
            "write": False,
            "at": time.time(),
            "ms": 0,
            "status": -1,
            "outcome": "failed",
            "response": f"{type(exception).__name__}: {exception}"[:300],
        }
    )


def journal(entry: dict[str, Any]) -> None:
    global _journal
    with _journal_lock:
        if _journal is None:
            _journal = open(JOURNAL_PATH, "a", buffering=1)
        _journal.write(json.dumps(entry, default=str) + "\n")


class ApiUser(HttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)
    username = ""

    def on_start(self) -> None:
        self.token = self.sign_in(self.username)

    def sign_in(self, username: str) -> str:
        data = self.call(
            "POST",
            "/api/auth/token/",
            "POST /api/auth/token/",
            body={"username": username, "password": PASSWORD},
            auth=False,
        )
        return data["access"] if data else ""

    def call(
        self,
        method: str,
        path: str,
        name: str,
        body: dict[str, Any] | None = None,
        expected: tuple[int, ...] = (),
        auth: bool = True,
        kind: str = "",
        context: dict[str, Any] | None = None,
        reason: str = "",
    ) -> Any:
        """One request, journalled; returns the JSON body of a 2xx answer, else None."""
        request_id = f"load-{uuid.uuid4().hex}"
        headers = {"X-Request-ID": request_id}
        if reason:
            headers["X-Change-Reason"] = reason
        if auth and getattr(self, "token", ""):
            headers["Authorization"] = f"Bearer {self.token}"
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "name": name,
            "kind": kind,
            "request_id": request_id,
            "write": method != "GET",
            **(context or {}),
        }
        if body is not None and kind == "serial_status":
            entry["serials"] = body["serials"]
            entry["to"] = body["status"]
        entry["at"] = time.time()
        started = time.perf_counter()
        with self.client.request(
            method, path, name=name, json=body, headers=headers, catch_response=True
        ) as response:
            entry["ms"] = round((time.perf_counter() - started) * 1000, 2)
            status = response.status_code
            entry["status"] = status
            entry["response_request_id"] = response.headers.get("X-Request-ID")
            data = None
            if 200 <= status < 300:
                entry["outcome"] = "ok"
                try:
                    data = response.json()
                except ValueError:
                    data = None
                response.success()
            elif status in expected:
                entry["outcome"] = "expected"
                response.success()
            else:
                entry["outcome"] = "failed"
                response.failure(f"{status}: {response.text[:300]}")
            if data is not None and method != "GET":
                entry["response"] = essentials(data)
            elif entry["outcome"] != "ok":
                entry["response"] = (response.text or repr(response.error))[:300]
        journal(entry)
        return data


def essentials(data: Any) -> Any:
    """What the completeness check needs from a write's answer."""
    if not isinstance(data, dict):
        return data
    keep = (
        "id",
        "status",
        "batch",
        "generated",
        "first_id",
        "last_id",
        "moved",
        "outcome",
    )
    return {key: data[key] for key in keep if key in data}


class Operator(ApiUser):
    """A line controller: plans, runs and completes batches; serializes their packs."""

    weight = 3

    def on_start(self) -> None:
        me = SETUP["operators"][next(_serial_counter) % len(SETUP["operators"])]
        self.username = me["username"]
        self.site = me["site"]
        super().on_start()

    @task(6)
    def run_a_batch(self) -> None:
        n = next(_serial_counter)
        today = datetime.now(UTC).date()
        created = self.call(
            "POST",
            "/api/batches/",
            "POST /api/batches/",
            body={
                "product": SETUP["product"],
                "site": self.site,
                "batch_number": f"L{n:08d}",
                "planned_quantity": 1000,
                "manufacturing_date": today.isoformat(),
                "expiry_date": (today + timedelta(days=730)).isoformat(),
            },
            kind="batch_create",
        )
        if not created:
            return
        batch = created["id"]
        ctx = {"batch": batch}
        if not self.call(
            "POST",
            f"/api/batches/{batch}/start/",
            "POST /api/batches/{id}/start/",
            body={},
            kind="batch_start",
            context=ctx,
        ):
            return
        generated = self.call(
            "POST",
            f"/api/batches/{batch}/serials/",
            "POST /api/batches/{id}/serials/",
            body={"count": 100},
            kind="serial_generate",
            context=ctx,
        )
        if generated:
            page = self.call(
                "GET",
                f"/api/batches/{batch}/serials/?page_size=100",
                "GET /api/batches/{id}/serials/",
            )
            codes = [row["gs1"] for row in (page or {}).get("results", [])]
            if codes:
                scan_codes.extend(random.sample(codes, 5))
                packed = codes[:50]
                self.call(
                    "POST",
                    "/api/serials/status/",
                    "POST /api/serials/status/",
                    body={"serials": packed, "status": "packed"},
                    kind="serial_status",
                    context=ctx,
                    reason="Packed on the line",
                )
                # Packed twice by two stations: the second move is refused, all or nothing.
                if random.random() < 0.2:
                    self.call(
                        "POST",
                        "/api/serials/status/",
                        "POST /api/serials/status/",
                        body={"serials": [*packed[-5:], codes[60]], "status": "packed"},
                        expected=(400,),
                        kind="serial_status",
                        context=ctx,
                        reason="Packed on the line",
                    )
        in_production.append({"batch": batch, "by": self.username})
        gevent.sleep(random.uniform(1, 3))
        if self.call(
            "POST",
            f"/api/batches/{batch}/complete/",
            "POST /api/batches/{id}/complete/",
            body={"produced_quantity": 950},
            kind="batch_complete",
            context=ctx,
        ):
            quarantine.append({"batch": batch, "by": self.username})

    @task(1)
    def double_start(self) -> None:
        """Two controllers start the same planned batch at once: exactly one wins."""
        pool = race_pool.get(self.site)
        if not pool:
            return
        batch = pool.pop()
        ctx = {"batch": batch, "race": True}
        calls = [
            gevent.spawn(
                self.call,
                "POST",
                f"/api/batches/{batch}/start/",
                "POST /api/batches/{id}/start/",
                {},
                (409,),
                True,
                "batch_start",
                ctx,
            )
            for _ in range(2)
        ]
        gevent.joinall(calls)

    @task(3)
    def look_at_batches(self) -> None:
        self.call(
            "GET",
            f"/api/batches/?site={self.site}&status=in_production&page_size=20",
            "GET /api/batches/",
        )


class QualityAssurance(ApiUser):
    """QA: inspects, releases and rejects; another person than the one who completed."""

    weight = 2

    def on_start(self) -> None:
        self.username = random.choice(SETUP["qa"])
        super().on_start()
        self.inspected: dict[str, str] = {}

    def inspect(self, batch: str, passing: bool) -> str | None:
        ctx = {"batch": batch}
        created = self.call(
            "POST",
            "/api/inspections/",
            "POST /api/inspections/",
            body={
                "batch": batch,
                "kind": random.choice(["visual", "assay", "packaging"]),
                "results": [
                    {
                        "parameter": "defects",
                        "value": 0 if passing else 3,
                        "unit": "count",
                        "max": 0,
                    }
                ],
            },
            # The batch may have been released or rejected by another QA user.
            expected=(409,),
            kind="inspection_create",
            context=ctx,
        )
        if not created:
            return None
        outcome = "passed" if passing else "failed"
        done = self.call(
            "POST",
            f"/api/inspections/{created['id']}/complete/",
            "POST /api/inspections/{id}/complete/",
            body={"outcome": outcome, "password": PASSWORD, "meaning": "approval"},
            # Another QA user may have rejected the batch since the inspection was made.
            expected=(409,),
            kind="inspection_complete",
            context={**ctx, "inspection": created["id"]},
        )
        return outcome if done else None

    @task(3)
    def inspect_in_production(self) -> None:
        if not in_production:
            return
        item = in_production.popleft()
        self.inspect(item["batch"], passing=random.random() < 0.95)

    @task(4)
    def release_or_reject(self) -> None:
        if not quarantine:
            return
        item = quarantine.popleft()
        batch = item["batch"]
        ctx = {"batch": batch}
        outcome = self.inspect(batch, passing=random.random() < 0.9)
        if outcome == "passed":
            if self.call(
                "POST",
                f"/api/batches/{batch}/release/",
                "POST /api/batches/{id}/release/",
                body={"password": PASSWORD, "meaning": "approval", "reason": "Load release"},
                # An earlier failed inspection of this batch blocks it (409).
                expected=(409,),
                kind="batch_release",
                context=ctx,
            ):
                released.append(batch)
                return
        self.call(
            "POST",
            f"/api/batches/{batch}/reject/",
            "POST /api/batches/{id}/reject/",
            body={"password": PASSWORD, "meaning": "rejection", "reason": "Out of spec"},
            kind="batch_reject",
            context=ctx,
        )

    @task(1)
    def release_again(self) -> None:
        """A second release of a released batch: 409, nothing changes."""
        if not released:
            return
        batch = random.choice(released)
        self.call(
            "POST",
            f"/api/batches/{batch}/release/",
            "POST /api/batches/{id}/release/",
            body={"password": PASSWORD, "meaning": "approval"},
            expected=(409,),
            kind="batch_release",
            context={"batch": batch},
        )

    @task(2)
    def quarantine_list(self) -> None:
        self.call("GET", "/api/batches/?status=quarantine&page_size=20", "GET /api/batches/")


class Reader(ApiUser):
    """Dashboards and ERP reads."""

    weight = 3

    def on_start(self) -> None:
        self.username = SETUP["reader"]
        super().on_start()

    @task(3)
    def batch_list(self) -> None:
        status = random.choice(["", "planned", "in_production", "quarantine", "released"])
        ordering = random.choice(["-manufacturing_date", "batch_number", "-created_at"])
        # 400 seeded batches: the first pages exist whatever the filter's luck.
        page = random.randint(1, 5) if status in ("", "planned") else 1
        query = f"?page={page}&page_size=20&ordering={ordering}"
        data = self.call(
            "GET",
            f"/api/batches/{query}" + (f"&status={status}" if status else ""),
            "GET /api/batches/",
        )
        self.seen = [row["id"] for row in (data or {}).get("results", [])]

    @task(5)
    def batch_detail(self) -> None:
        seen = getattr(self, "seen", None) or SETUP["sample_batches"]
        batch = random.choice(seen)
        self.call("GET", f"/api/batches/{batch}/", "GET /api/batches/{id}/")


class Scanner(ApiUser):
    """A packaging or pharmacy scanner verifying packs."""

    weight = 3
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        self.username = SETUP["scanner"]
        super().on_start()

    @task(10)
    def verify(self) -> None:
        code = random.choice(scan_codes)
        self.call("GET", f"/api/serials/verify/?code={quote(code)}", "GET /api/serials/verify/")

    @task(1)
    def verify_unknown(self) -> None:
        code = f"(01){SETUP['gtin']}(21)UNKNOWN{random.randint(0, 10**6)}"
        self.call("GET", f"/api/serials/verify/?code={quote(code)}", "GET /api/serials/verify/")


class SignIn(ApiUser):
    """Sign-ins of every kind of user; now and then a mistyped password."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.token = ""

    @task(5)
    def good(self) -> None:
        self.sign_in(random.choice(SETUP["all_users"]))

    @task(1)
    def mistyped(self) -> None:
        # A dedicated account: after LOGIN_FAILURE_LIMIT failures the lockout answers 429.
        self.call(
            "POST",
            "/api/auth/token/",
            "POST /api/auth/token/ (wrong password)",
            body={"username": SETUP["locked"], "password": "not-the-password"},
            expected=(401, 429),
            auth=False,
            kind="login_failed",
        )
