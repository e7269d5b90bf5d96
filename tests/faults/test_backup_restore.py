"""A base backup restored to a point in time on a fresh cluster, and checked
(``tools/backup_drill.py``, also ``make backup``): EU GMP Annex 11 §7.2."""

from __future__ import annotations

import pytest

from tools import backup_drill, pg_cluster

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not pg_cluster.available(), reason="needs PostgreSQL's own binaries"),
]


def test_a_point_in_time_restore_has_everything_before_the_point_and_nothing_after():
    drill = backup_drill.run()

    assert drill.archived_segments > 0  # the restore replayed archived WAL, not the backup's
    # Committed before the backup, and between the backup and the restore point: there.
    assert drill.restored == sorted(["DR-OLD-1", "DR-BEFORE-1", "DR-BEFORE-2"])
    # Committed after the restore point: not there.
    assert not set(drill.after) & set(drill.restored)
    # The audit trail of the restored copy verifies from its first seal: every record of
    # the changes before the point sealed and intact, none of those after it.
    assert drill.verify_ok, drill.verify
    assert drill.verify["mode"] == "full"
    assert drill.verify["problem_count"] == 0
    assert drill.verify["checked_records"] == drill.verify["records"] > 0
    assert drill.verify["unsealed"] == 0
    assert drill.records_restored == drill.records_at_point < drill.records_after
    assert drill.ok
