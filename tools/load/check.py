"""The completeness check of ``make load``: the database against what locust saw.

    python -m tools.load.check bench-results/load-journal.jsonl

(the seeded ids are read from ``LOAD_SETUP`` or ``load-setup.json`` beside the journal)

Run by ``tools/load/run.py`` with the load run's environment (its database, production
settings) after gunicorn has stopped and the Celery worker has drained the broker. Reads
the journal written by ``tools/load/locustfile.py`` and checks:

- every answer carried the request's own ``X-Request-ID``, and no answer was a 5xx;
- every successful write is in the database: the batch with the status its last
  successful action left it in (and who started, completed, released or rejected it,
  with the signature), the inspection with its outcome, the 100 serials of a generation,
  the serials a move packed (and no other serial of the batch moved);
- every successful write has its change record (action, resource and the request's id)
  and its access record (written by the Celery worker);
- no refused or failed write left a change record behind (a refused request has only
  its access record); of two simultaneous starts of a batch exactly one is recorded;
- nothing else changed: the counts of batches, inspections, serials and change records
  made by requests are exactly those the journal accounts for;
- the audit trail verifies (every record's MAC; the hash chain after sealing);
- the worker sent one e-mail per successful release, rejection and failed inspection.

Prints a JSON object ``{ok, summary, problems}`` as its last line.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter, defaultdict
from typing import Any

import django

ACCESS_ACTIONS = {
    "request",
    "login",
    "login_failed",
    "lockout",
    "logout",
    "token_refresh",
    "permission_denied",
}
# The change records each kind of successful write must have (resource type, action).
CHANGE_RECORDS = {
    "batch_create": ("batches.batch", "create"),
    "batch_start": ("batches.batch", "batch_start"),
    "batch_complete": ("batches.batch", "batch_complete"),
    "batch_release": ("batches.batch", "batch_release"),
    "batch_reject": ("batches.batch", "batch_reject"),
    "inspection_create": ("inspections.inspection", "create"),
    "inspection_complete": ("inspections.inspection", "inspection_complete"),
    "serial_generate": ("serializations.serialnumber", "serial_generate"),
    "serial_status": ("serializations.serialnumber", "serial_status"),
}
LIFECYCLE = {
    "batch_create": "planned",
    "batch_start": "in_production",
    "batch_complete": "quarantine",
    "batch_release": "released",
    "batch_reject": "rejected",
}
RANK = {"planned": 0, "in_production": 1, "quarantine": 2, "released": 3, "rejected": 3}
GS1 = re.compile(r"^\(01\)(\d{14})\(21\)([^()]+)")
SUBJECT = re.compile(r"^Subject: .*?(?:Batch \S+ (released|rejected) at|(Inspection failed) for)")


def answer(entry: dict[str, Any]) -> dict[str, Any]:
    """The journalled essentials of a 2xx answer ({} when there were none)."""
    response = entry.get("response")
    return response if isinstance(response, dict) else {}


def main(path: str) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    django.setup()
    from django.core.management import call_command

    from audit.models import AuditLog
    from batches.models import Batch
    from inspections.models import Inspection
    from serializations.models import SerialNumber

    setup = json.loads(
        os.environ.get("LOAD_SETUP")
        or open(os.path.join(os.path.dirname(path), "load-setup.json")).read()
    )
    journal = [json.loads(line) for line in open(path).read().splitlines() if line]
    problems: list[str] = []
    summary: list[str] = []

    # Answers: the request's own id, no 5xx.
    for e in journal:
        if e.get("response_request_id") not in (None, e["request_id"]):
            problems.append(f"{e['name']}: answered with request id {e['response_request_id']}")
        if (e.get("status") or 0) >= 500 or e.get("status") in (None, 0):
            problems.append(f"{e['name']} {e['request_id']}: status {e.get('status')}")

    writes = [e for e in journal if e["write"]]
    ok = [e for e in writes if e["outcome"] == "ok"]
    refused = [e for e in writes if e["outcome"] != "ok"]
    ok_ids = {e["request_id"] for e in ok}

    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in AuditLog.objects.filter(request_id__startswith="load-").values(
        "request_id", "action", "resource_type", "resource_id", "new_values", "status_code"
    ):
        records[row["request_id"]].append(row)

    # Every successful write: its access record and its change record.
    for e in writes:
        rid = e["request_id"]
        access = [r for r in records[rid] if r["action"] in ACCESS_ACTIONS]
        if not access:
            problems.append(f"{e['name']} {rid} ({e['outcome']}): no access record")
        elif e["path"] != "/api/auth/token/" and e["status"] not in {
            r["status_code"] for r in access
        }:
            problems.append(f"{e['name']} {rid}: access record status is not {e['status']}")
        if e["outcome"] != "ok":
            continue
        if e["path"] == "/api/auth/token/":
            if not any(r["action"] == "login" for r in access):
                problems.append(f"sign-in {rid}: no login record")
            continue
        expected = CHANGE_RECORDS.get(e["kind"])
        if expected is None:
            problems.append(f"{e['name']} {rid}: a write the check does not know")
            continue
        resource_id = {
            "batch_create": answer(e).get("id"),
            "inspection_create": answer(e).get("id"),
            "inspection_complete": e.get("inspection"),
            "serial_generate": e.get("batch"),
            "serial_status": "",
        }.get(e["kind"], e.get("batch"))
        found = [
            r
            for r in records[rid]
            if (r["resource_type"], r["action"]) == expected
            and str(r["resource_id"]) == str(resource_id)
        ]
        if len(found) != 1:
            problems.append(
                f"{e['name']} {rid}: {len(found)} change records {expected} for {resource_id}"
            )

    # No refused or failed write left a change behind.
    for e in refused:
        left = [r["action"] for r in records[e["request_id"]] if r["action"] not in ACCESS_ACTIONS]
        if left:
            problems.append(f"{e['name']} {e['request_id']} ({e['status']}) left {left}")
    # Change records by requests that locust did not see succeed (reads, unknown ids).
    strays = [
        (rid, r["action"])
        for rid, rows in records.items()
        if rid not in ok_ids
        for r in rows
        if r["action"] not in ACCESS_ACTIONS
    ]
    if strays:
        problems.append(f"{len(strays)} change records of no successful write: {strays[:10]}")
    unknown = (
        AuditLog.objects.exclude(request_id="")
        .exclude(request_id__startswith="load-")
        .exclude(action__in=ACCESS_ACTIONS)
        .count()
    )
    if unknown:
        problems.append(f"{unknown} change records by requests that are not in the journal")

    # Batches: present, in the state their last successful action left them.
    created = {answer(e).get("id") for e in ok if e["kind"] == "batch_create"}
    final: dict[str, str] = {}
    for e in ok:
        if e["kind"] in LIFECYCLE:
            batch = answer(e)["id"] if e["kind"] == "batch_create" else e["batch"]
            state = LIFECYCLE[e["kind"]]
            if RANK[state] >= RANK.get(final.get(batch, "planned"), 0):
                final[batch] = state
    starts = Counter(e["batch"] for e in ok if e["kind"] == "batch_start")
    doubled = [b for b, n in starts.items() if n > 1]
    if doubled:
        problems.append(f"batches started twice: {doubled[:10]}")
    raced = {e["batch"] for e in writes if e.get("race")}
    raced_done = Counter(
        r["resource_id"]
        for r in AuditLog.objects.filter(action="batch_start", resource_id__in=raced).values(
            "resource_id"
        )
    )
    for batch in raced:
        if raced_done[batch] != 1:
            problems.append(f"raced batch {batch}: {raced_done[batch]} batch_start records")
    race_outcomes = Counter(e["status"] for e in writes if e.get("race"))
    rows = {
        str(b["id"]): b
        for b in Batch.objects.filter(pk__in=list(final)).values(
            "id",
            "status",
            "started_by",
            "completed_by",
            "produced_quantity",
            "release_signature",
            "rejection_signature",
        )
    }
    for batch, state in final.items():
        row = rows.get(batch)
        if row is None:
            problems.append(f"batch {batch}: missing")
            continue
        if row["status"] != state:
            problems.append(f"batch {batch}: {row['status']}, expected {state}")
        if RANK[state] >= 1 and row["started_by"] is None:
            problems.append(f"batch {batch}: no started_by")
        if RANK[state] >= 2 and (row["completed_by"] is None or row["produced_quantity"] != 950):
            problems.append(f"batch {batch}: completion not stored")
        if state == "released" and row["release_signature"] is None:
            problems.append(f"batch {batch}: released without a signature")
        if state == "rejected" and row["rejection_signature"] is None:
            problems.append(f"batch {batch}: rejected without a signature")
    seeded_batches = sum(len(v) for v in setup["race_batches"].values()) + 1
    total_batches = Batch.objects.count()
    if total_batches != seeded_batches + len(created):
        problems.append(
            f"{total_batches} batches, expected {seeded_batches} seeded + {len(created)} created"
        )

    # Inspections: present, pending or completed with the outcome that was answered.
    inspections = {
        str(i["id"]): i
        for i in Inspection.objects.values("id", "batch_id", "status", "signature_id")
    }
    made = [e for e in ok if e["kind"] == "inspection_create"]
    for e in made:
        row = inspections.get(answer(e)["id"])
        if row is None or str(row["batch_id"]) != e["batch"]:
            problems.append(f"inspection {e['response']['id']}: missing or on another batch")
    outcomes = {
        e["inspection"]: answer(e).get("status") for e in ok if e["kind"] == "inspection_complete"
    }
    for e in made:
        pk = answer(e)["id"]
        row = inspections.get(pk)
        expected_status = outcomes.get(pk, "pending")
        if row is not None and row["status"] != expected_status:
            problems.append(f"inspection {pk}: {row['status']}, expected {expected_status}")
        if row is not None and expected_status != "pending" and row["signature_id"] is None:
            problems.append(f"inspection {pk}: completed without a signature")
    if len(inspections) != len(made):
        problems.append(f"{len(inspections)} inspections, expected {len(made)}")

    # Serials: every generation's 100 rows; moved ones packed, the others untouched.
    generated = [e for e in ok if e["kind"] == "serial_generate"]
    per_batch = Counter(
        str(b) for b in SerialNumber.objects.values_list("batch_id", flat=True).iterator()
    )
    for e in generated:
        r = answer(e)
        in_range = SerialNumber.objects.filter(
            batch_id=e["batch"], id__gte=r["first_id"], id__lte=r["last_id"]
        ).count()
        if not (r["generated"] == 100 == in_range == per_batch[e["batch"]]):
            problems.append(
                f"serials of {e['batch']}: answered {r['generated']}, {in_range} in the id "
                f"range, {per_batch[e['batch']]} in the batch"
            )
    seeded_serials = per_batch.get(setup["seeded_batch"], 0)
    total_serials = sum(per_batch.values())
    if total_serials != seeded_serials + 100 * len(generated) or seeded_serials != 300:
        problems.append(
            f"{total_serials} serials, expected 300 seeded + 100 x {len(generated)} generated"
        )
    packed: set[tuple[str, str]] = set()
    for e in ok:
        if e["kind"] == "serial_status":
            if answer(e).get("moved") != len(e["serials"]):
                problems.append(f"move {e['request_id']}: moved {e['response'].get('moved')}")
            for code in e["serials"]:
                match = GS1.match(code)
                if match:
                    packed.add((match.group(1), match.group(2)))
    moved_batches = [e["batch"] for e in generated]
    states = Counter()
    for gtin, serial, status in SerialNumber.objects.filter(batch_id__in=moved_batches).values_list(
        "gtin", "serial", "status"
    ):
        want = "packed" if (gtin, serial) in packed else "commissioned"
        states[status] += 1
        if status != want:
            problems.append(f"serial {gtin}/{serial}: {status}, expected {want}")
    if states["packed"] != len(packed):
        problems.append(f"{states['packed']} packed serials, expected {len(packed)}")

    # The trail itself: MACs and the hash chain.
    from io import StringIO

    out = StringIO()
    call_command("seal_audit", stdout=out)
    try:
        call_command("verify_audit", stdout=out, stderr=out)
        trail = "verifies"
    except SystemExit as exc:
        trail = f"does not verify ({exc})"
        problems.append(f"audit trail: {out.getvalue()[-500:]}")
    except Exception as exc:
        trail = f"does not verify ({exc})"
        problems.append(f"audit trail: {exc}")

    # E-mails to QA, sent by the worker (console backend: its log): one per release,
    # rejection and failed inspection that succeeded, none for a refused one.
    mails: Counter[str] = Counter()
    worker_log = os.environ.get("LOAD_WORKER_LOG")
    if worker_log:
        for line in open(worker_log, errors="replace"):
            match = SUBJECT.match(line)
            if match:
                mails[match.group(1) or match.group(2)] += 1
        expected_mails = {
            "released": sum(e["kind"] == "batch_release" for e in ok),
            "rejected": sum(e["kind"] == "batch_reject" for e in ok),
            "Inspection failed": sum(
                e["kind"] == "inspection_complete" and answer(e).get("status") == "failed"
                for e in ok
            ),
        }
        for kind, count in expected_mails.items():
            if mails[kind] != count:
                problems.append(f"e-mails '{kind}': {mails[kind]} sent, expected {count}")

    kinds = Counter(e["kind"] or e["name"] for e in ok)
    leftover = int(os.environ.get("LOAD_BROKER_LEFTOVER", "0"))
    if leftover > 0:
        problems.append(f"{leftover} tasks still on the broker when the worker stopped")
    summary += [
        f"{len(writes)} writes: {len(ok)} succeeded, {len(refused)} refused or failed; "
        f"each checked in the database and the audit trail",
        "successful writes: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
        f"batches created {len(created)}, final states "
        + ", ".join(f"{k} {n}" for k, n in sorted(Counter(final.values()).items())),
        f"simultaneous starts of one batch: {len(raced)} pairs, answers "
        + ", ".join(f"{k}: {n}" for k, n in sorted(race_outcomes.items())),
        f"inspections {len(made)}, serials generated {100 * len(generated)}, packed {len(packed)}",
        "e-mails sent by the worker: " + ", ".join(f"{k} {n}" for k, n in sorted(mails.items())),
        f"audit records of the run: {sum(len(v) for v in records.values())}; the trail {trail}",
    ]
    return {"ok": not problems, "summary": summary, "problems": problems}


if __name__ == "__main__":
    result = main(sys.argv[1])
    print(json.dumps(result))
