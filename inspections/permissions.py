"""Permission codenames checked by the inspections app."""

from core.access import Codename, declare

PERMISSIONS = declare(
    Codename("inspection.view", "See QA inspections", roles={"qa", "operator", "auditor"}),
    Codename("inspection.create", "Record QA inspections (and corrections)", roles={"qa"}),
    Codename("inspection.update", "Change pending inspections", roles={"qa"}),
    Codename(
        "inspection.complete",
        "Record an inspection's outcome (electronic signature)",
        roles={"qa"},
    ),
)
