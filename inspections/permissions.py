"""Permission codenames checked by the inspections app."""

PERMISSIONS = {
    "inspection.view": "See QA inspections",
    "inspection.create": "Record QA inspections (and corrections)",
    "inspection.update": "Change pending inspections",
    "inspection.complete": "Record an inspection's outcome (electronic signature)",
}
