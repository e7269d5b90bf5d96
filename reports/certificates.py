"""The certificate of analysis of a released batch: its content, its hash and its PDF.

``content`` gathers what the certificate states, as JSON-safe values: the product, the
batch, every current inspection with each result against its limits, and every
signature (the release's and each inspection's). Its document hash (``reports.pdf``) is
the same for the same batch, whoever prints it and whenever; ``render`` draws it, the
hash on every page, the same bytes every time.

ReportLab rather than an HTML engine: pure Python (no system libraries to install on
every host), and its invariant mode makes the output reproducible byte for byte.
"""

from __future__ import annotations

from typing import Any

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from batches.models import Batch
from inspections.choices import InspectionStatus
from reports import pdf
from serializations import gs1

TITLE = "Certificate of analysis"


def _when(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def signed(signature: Any) -> dict[str, Any] | None:
    """What an electronic signature states, JSON-safe; None for no signature."""
    if signature is None:
        return None
    return {
        "printed_name": signature.printed_name,
        "signed_at": _when(signature.signed_at),
        "meaning": signature.meaning,
        "reason": signature.reason,
        "record_type": signature.record_type,
        "record_id": signature.record_id,
        "content_hash": signature.content_hash,
    }


def _person(user: Any) -> str | None:
    return user.printed_name if user is not None else None


def inspections(batch: Batch, *, pending: bool = False) -> list[dict[str, Any]]:
    """The batch's current inspections (not superseded), in order of performance, each
    result against its limits; ``pending`` includes those not yet completed."""
    current = batch.inspections.filter(superseded_by__isnull=True)
    if not pending:
        current = current.exclude(status=InspectionStatus.PENDING)
    return [
        {
            "id": str(inspection.pk),
            "kind": inspection.kind,
            "performed_by": _person(inspection.performed_by),
            "performed_at": _when(inspection.performed_at),
            "completed_at": _when(inspection.completed_at),
            "verdict": inspection.status,
            "results": [
                {
                    "parameter": result.get("parameter"),
                    "value": result.get("value"),
                    "unit": result.get("unit") or "",
                    "min": result.get("min"),
                    "max": result.get("max"),
                    "in_spec": bool(result.get("in_spec")),
                }
                for result in inspection.results
            ],
            "signature": signed(inspection.signature),
        }
        for inspection in current.select_related(
            "performed_by", "completed_by", "signature"
        ).order_by("performed_at", "id")
    ]


def content(batch: Batch) -> dict[str, Any]:
    """What the certificate of ``batch`` states (a released batch)."""
    product, site = batch.product, batch.site
    return {
        "product": {
            "name": product.name,
            "strength": product.strength,
            "dosage_form": product.dosage_form,
            "gtin": product.gtin,
        },
        "batch": {
            "id": str(batch.pk),
            "batch_number": batch.batch_number,
            "site": {"code": site.code, "name": site.name, "gln": site.gln},
            "manufacturing_date": batch.manufacturing_date.isoformat(),
            "expiry_date": batch.expiry_date.isoformat(),
            "started_at": _when(batch.started_at),
            "completed_at": _when(batch.completed_at),
            "released_at": _when(batch.released_at),
            "planned_quantity": batch.planned_quantity,
            "produced_quantity": batch.produced_quantity,
            "status": batch.status,
        },
        "inspections": inspections(batch),
        "release_signature": signed(batch.release_signature),
        "digital_link": gs1.batch_digital_link(product.gtin, batch.batch_number, batch.expiry_date),
    }


def _number(value: Any) -> str:
    return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def limits_text(result: dict[str, Any]) -> str:
    low, high = result["min"], result["max"]
    if low is not None and high is not None:
        return f"{_number(low)} – {_number(high)}"
    if low is not None:
        return f"≥ {_number(low)}"
    if high is not None:
        return f"≤ {_number(high)}"
    return "–"


def render(certificate: dict[str, Any], digest: str) -> bytes:
    """The PDF of ``certificate``, ``digest`` (its ``document_hash``) on every page."""
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["BodyText"], fontSize=8, leading=10)
    cell = ParagraphStyle("cell", parent=styles["BodyText"], fontSize=8, leading=9.5)
    product, batch = certificate["product"], certificate["batch"]
    grid = pdf.GRID
    pairs = TableStyle(
        [
            ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
            ("FONTNAME", (2, 0), (2, -1), "Helvetica-Bold"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )

    qr = QrCodeWidget(certificate["digital_link"])
    left, bottom, right, top = qr.getBounds()
    side = 32 * mm
    code = Drawing(side, side, transform=[side / (right - left), 0, 0, side / (top - bottom), 0, 0])
    code.add(qr)

    story: list[Any] = []
    heading = Table(
        [
            [
                [
                    Paragraph(TITLE, styles["Title"]),
                    Paragraph(
                        f"{product['name']} {product['strength']}, {product['dosage_form']}"
                        f"<br/>GTIN {product['gtin']} · batch {batch['batch_number']}",
                        styles["Heading3"],
                    ),
                ],
                code,
            ]
        ],
        colWidths=[140 * mm, 36 * mm],
    )
    story += [heading, Spacer(1, 3 * mm)]
    site = batch["site"]
    story.append(
        Table(
            [
                ["Product", product["name"], "GTIN", product["gtin"]],
                [
                    "Strength",
                    product["strength"] or "–",
                    "Dosage form",
                    product["dosage_form"] or "–",
                ],
                ["Batch", batch["batch_number"], "Site", f"{site['name']} ({site['code']})"],
                ["Manufactured", batch["manufacturing_date"], "Site GLN", site["gln"] or "–"],
                ["Expiry", batch["expiry_date"], "Status", batch["status"]],
                ["Started", batch["started_at"] or "–", "Completed", batch["completed_at"] or "–"],
                ["Released", batch["released_at"] or "–", "Digital Link", ""],
                [
                    "Planned quantity",
                    _number(batch["planned_quantity"]),
                    "Produced quantity",
                    _number(batch["produced_quantity"]),
                ],
            ],
            colWidths=[30 * mm, 58 * mm, 30 * mm, 58 * mm],
            style=pairs,
        )
    )
    story.append(Paragraph(certificate["digital_link"], small))
    story.append(Spacer(1, 4 * mm))

    for inspection in certificate["inspections"]:
        story.append(
            Paragraph(
                f"Inspection: {inspection['kind']} · verdict <b>{inspection['verdict']}</b> · "
                f"performed by {inspection['performed_by']} at {inspection['performed_at']}",
                styles["Heading4"],
            )
        )
        rows = [["Parameter", "Result", "Unit", "Limits", "Conforms"]]
        rows += [
            [
                Paragraph(str(result["parameter"]), cell),
                _number(result["value"]),
                result["unit"],
                limits_text(result),
                "yes" if result["in_spec"] else "NO",
            ]
            for result in inspection["results"]
        ]
        story.append(
            Table(rows, colWidths=[60 * mm, 30 * mm, 20 * mm, 40 * mm, 20 * mm], style=grid)
        )
        story.append(Spacer(1, 3 * mm))

    story.append(Paragraph("Signatures", styles["Heading3"]))
    signed = [("Release", certificate["release_signature"])]
    signed += [
        (f"Inspection {inspection['kind']}", inspection["signature"])
        for inspection in certificate["inspections"]
    ]
    rows = [["Act", "Printed name", "Signed (UTC)", "Meaning", "Reason", "Signed record's hash"]]
    rows += [
        [
            act,
            Paragraph(signature["printed_name"], cell),
            Paragraph(signature["signed_at"], cell),
            signature["meaning"],
            Paragraph(signature["reason"] or "–", cell),
            Paragraph(signature["content_hash"], cell),
        ]
        for act, signature in signed
        if signature is not None
    ]
    story.append(
        Table(
            rows,
            colWidths=[24 * mm, 30 * mm, 28 * mm, 20 * mm, 30 * mm, 44 * mm],
            style=grid,
            repeatRows=1,
        )
    )

    return pdf.build(
        story,
        title=f"{TITLE} {product['gtin']} {batch['batch_number']}",
        label=batch["batch_number"],
        digest=digest,
    )
