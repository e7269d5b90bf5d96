"""Permission codenames checked by the serializations app."""

PERMISSIONS = {
    "serial.view": "See serial numbers, generation jobs, and verify scanned packs",
    "serial.generate": "Generate serial numbers for a planned or running batch",
    "serial.update_status": "Move serial numbers (packed, shipped, dispensed, decommissioned)",
    "serial.export": "Export a batch's serial numbers as CSV",
}
