"""What the reports' PDFs share: the document hash of their content, and a reproducible
A4 document that prints that hash on every page.

The hash is the SHA-256 of the content as canonical JSON (sorted keys, no spaces), so
the same content always has the same hash. ReportLab draws in invariant mode (no
creation date, no random document id), so the same content also gives the same bytes;
and a page separated from the others still names the document it belongs to.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, TableStyle


def document_hash(content: dict[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def build(story: list[Any], *, title: str, label: str, digest: str) -> bytes:
    """``story`` as an A4 PDF; every page's footer: the digest, ``label`` and its number."""

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 10 * mm, f"Document SHA-256: {digest}")
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"{label} · page {document.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="",
        subject=digest,
        creator="",
        invariant=1,
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
