"""Permission codenames checked by the batches app; products are not tied to a site."""

from core.access import GLOBAL, Codename, declare

PERMISSIONS = declare(
    Codename("product.view", "See products", scope=GLOBAL, roles={"qa", "operator", "auditor"}),
    Codename("product.manage", "Create, change and delete products", scope=GLOBAL),
    Codename("batch.view", "See batches", roles={"qa", "operator", "auditor"}),
    Codename("batch.create", "Plan batches", roles={"operator"}),
    Codename(
        "batch.update",
        "Change quantities and dates of planned or running batches",
        roles={"operator"},
    ),
    Codename("batch.delete", "Delete planned batches"),
    Codename("batch.start", "Start production of a batch", roles={"operator"}),
    Codename(
        "batch.complete",
        "Complete production (batch goes to quarantine)",
        roles={"operator"},
    ),
    Codename("batch.release", "Release a batch (electronic signature)", roles={"qa"}),
    Codename("batch.reject", "Reject a batch (electronic signature)", roles={"qa"}),
)
