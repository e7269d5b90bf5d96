"""Permission codenames checked by the batches app."""

PERMISSIONS = {
    "product.view": "See products",
    "product.manage": "Create, change and delete products",
    "batch.view": "See batches",
    "batch.create": "Plan batches",
    "batch.update": "Change quantities and dates of planned or running batches",
    "batch.delete": "Delete planned batches",
    "batch.start": "Start production of a batch",
    "batch.complete": "Complete production (batch goes to quarantine)",
    "batch.release": "Release a batch (electronic signature)",
    "batch.reject": "Reject a batch (electronic signature)",
}
