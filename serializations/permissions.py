"""Permission codenames checked by the serializations app."""

from core.access import Codename, declare

PERMISSIONS = declare(
    Codename(
        "serial.view",
        "See serial numbers, generation jobs, and verify scanned packs",
        roles={"qa", "operator", "auditor"},
    ),
    Codename(
        "serial.generate",
        "Generate serial numbers for a planned or running batch",
        roles={"operator"},
    ),
    Codename(
        "serial.update_status",
        "Move serial numbers (packed, shipped, dispensed, decommissioned)",
        roles={"operator"},
    ),
    Codename("serial.export", "Export a batch's serial numbers as CSV", roles={"qa", "auditor"}),
    Codename(
        "container.view",
        "See cases and pallets (SSCCs) and what they hold",
        roles={"qa", "operator", "auditor"},
    ),
    Codename(
        "container.pack",
        "Make cases and pallets, pack and unpack them",
        roles={"operator"},
    ),
    Codename(
        "container.ship", "Ship pallets and cases with everything in them", roles={"operator"}
    ),
)
