from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from batches.models import Batch
from batches.validators import GS1_AI82, validate_gtin
from core.serializers import StrictInputSerializer
from serializations import gs1, sscc
from serializations.choices import (
    ContainerKind,
    DecommissionReason,
    JobStatus,
    SerialStatus,
    Strategy,
)
from serializations.generation import DEFAULT_LENGTH
from serializations.jobs import job_progress
from serializations.models import Container, SerialJob
from serializations.services import SerialRef
from serializations.validators import SERIAL_MAX_LENGTH, validate_serial
from sites.models import Site
from sites.validators import validate_gln

# A spreadsheet opening the CSV export treats a cell starting with these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@")


class GenerateInputSerializer(StrictInputSerializer):
    count = serializers.IntegerField(min_value=1)
    strategy = serializers.ChoiceField(choices=Strategy.choices, default=Strategy.RANDOM)
    length = serializers.IntegerField(
        min_value=1, max_value=SERIAL_MAX_LENGTH, default=DEFAULT_LENGTH
    )
    prefix = serializers.RegexField(
        rf"^[{GS1_AI82}]*\Z",
        max_length=SERIAL_MAX_LENGTH - 1,
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": "Only characters of the GS1 AI 82 set."},
    )

    def validate_count(self, value: int) -> int:
        if value > settings.SERIAL_JOB_MAX:
            raise serializers.ValidationError(
                f"At most {settings.SERIAL_JOB_MAX} serials in one request."
            )
        return value

    def validate_prefix(self, value: str) -> str:
        if value.startswith(FORMULA_STARTS):
            raise serializers.ValidationError(
                "A prefix may not start with = + - or @ (spreadsheets read those as formulas)."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if len(attrs.get("prefix", "")) >= attrs.get("length", DEFAULT_LENGTH):
            raise serializers.ValidationError(
                {"prefix": ["The prefix must be shorter than the length (prefix included)."]}
            )
        return attrs


class GeneratedOutputSerializer(serializers.Serializer):
    """What a generation in the request wrote (201)."""

    batch = serializers.UUIDField()
    generated = serializers.IntegerField()
    strategy = serializers.CharField()
    length = serializers.IntegerField()
    prefix = serializers.CharField()
    first_id = serializers.IntegerField(allow_null=True)
    last_id = serializers.IntegerField(allow_null=True)
    first_serial = serializers.CharField()
    last_serial = serializers.CharField()
    serials = serializers.CharField(help_text="The generated serials, listed by id range.")


def serials_url(batch_id: Any, first_id: int | None, last_id: int | None) -> str | None:
    """The list of a batch's serials in an id range (what one generation wrote)."""
    if first_id is None:
        return None
    path = reverse("batch-serials", kwargs={"batch_pk": batch_id})
    return f"{path}?id_min={first_id}&id_max={last_id}"


def job_url(job: SerialJob) -> str:
    return reverse("serial-job-detail", kwargs={"pk": job.pk})


class SerialJobOutputSerializer(serializers.Serializer):
    """A generation job, read from the ``SerialJob`` row and its progress."""

    id = serializers.UUIDField()
    url = serializers.SerializerMethodField(help_text="Where to read the job's progress.")
    batch = serializers.UUIDField(source="batch_id")
    count = serializers.IntegerField()
    strategy = serializers.ChoiceField(choices=Strategy.choices)
    length = serializers.IntegerField()
    prefix = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=JobStatus.choices)
    generated = serializers.SerializerMethodField(
        help_text="Serials written so far; while running they are not yet committed: "
        "the whole count commits at once when the job succeeds."
    )
    attempts = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)
    first_id = serializers.IntegerField(allow_null=True)
    last_id = serializers.IntegerField(allow_null=True)
    serials = serializers.SerializerMethodField(help_text="The job's serials, by id range.")
    requested_by = serializers.UUIDField(source="requested_by_id", allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, job: SerialJob) -> str:
        return job_url(job)

    @extend_schema_field(OpenApiTypes.INT)
    def get_generated(self, job: SerialJob) -> int:
        return job_progress(job)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_serials(self, job: SerialJob) -> str | None:
        return serials_url(job.batch_id, job.first_id, job.last_id)


class SerialOutputSerializer(serializers.Serializer):
    """A list row (built from plain values by ``selectors.serial_rows``)."""

    id = serializers.IntegerField()
    batch = serializers.UUIDField()
    gtin = serializers.CharField()
    serial = serializers.CharField()
    lot = serializers.CharField()
    expiry = serializers.DateField()
    status = serializers.ChoiceField(choices=SerialStatus.choices)
    status_changed_at = serializers.DateTimeField()
    decommission_reason = serializers.CharField()
    gs1 = serializers.CharField(help_text="Human-readable GS1 element string.")
    digital_link = serializers.CharField(help_text="GS1 Digital Link URI.")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "description": "A GS1 element string with (01) and (21)."},
            {
                "type": "object",
                "properties": {
                    "gtin": {"type": "string", "pattern": r"^\d{14}$"},
                    "serial": {"type": "string", "minLength": 1, "maxLength": 20},
                },
                "required": ["gtin", "serial"],
                "additionalProperties": False,
            },
        ]
    }
)
class SerialRefField(serializers.Field):
    """A serial named by a scanned GS1 string or by ``{gtin, serial}``."""

    def to_internal_value(self, data: Any) -> SerialRef:
        if isinstance(data, str):
            try:
                code = gs1.parse(data)
            except gs1.CodeError as exc:
                raise serializers.ValidationError(str(exc)) from exc
            return SerialRef(code.gtin, code.serial)
        if isinstance(data, dict) and set(data) == {"gtin", "serial"}:
            gtin, serial = data["gtin"], data["serial"]
            try:
                validate_gtin(gtin)
                if not isinstance(serial, str):
                    raise DjangoValidationError("The serial must be a string.")
                validate_serial(serial)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(list(exc.messages)) from exc
            return SerialRef(gtin, serial)
        raise serializers.ValidationError(
            'Give a GS1 element string or an object {"gtin": ..., "serial": ...}.'
        )

    def to_representation(self, value: SerialRef) -> str:
        return str(value)


class StatusMoveInputSerializer(StrictInputSerializer):
    MAX = 10_000

    serials = serializers.ListField(child=SerialRefField(), min_length=1, max_length=MAX)
    status = serializers.ChoiceField(
        choices=[s for s in SerialStatus.choices if s[0] != SerialStatus.COMMISSIONED]
    )
    reason = serializers.ChoiceField(
        choices=DecommissionReason.choices, required=False, allow_blank=True, default=""
    )


class StatusMoveOutputSerializer(serializers.Serializer):
    moved = serializers.IntegerField()
    status = serializers.ChoiceField(choices=SerialStatus.choices)
    decommission_reason = serializers.CharField()
    at = serializers.DateTimeField()


class VerifyInputSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=200,
        trim_whitespace=False,
        help_text="The scanned GS1 element string: (01)…(21)…(10)…(17)… or raw with "
        "FNC1/GS (ASCII 29) separators.",
    )


class VerifyReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[
            "unknown_serial",
            "lot_mismatch",
            "expiry_mismatch",
            "decommissioned",
            "recalled",
            "dispensed",
            "batch_rejected",
            "batch_not_released",
            "expired",
        ]
    )
    message = serializers.CharField()


class VerifyBatchSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    batch_number = serializers.CharField()
    status = serializers.CharField()
    expiry_date = serializers.DateField()
    product = serializers.CharField()


class VerifySiteSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()


class VerifyContainerSerializer(serializers.Serializer):
    sscc = serializers.CharField()
    kind = serializers.ChoiceField(choices=ContainerKind.choices)
    status = serializers.CharField()


class VerifyOutputSerializer(serializers.Serializer):
    verified = serializers.BooleanField(
        help_text="Known, matching, not decommissioned or dispensed, released, not expired."
    )
    known = serializers.BooleanField()
    gtin = serializers.CharField()
    serial = serializers.CharField()
    lot = serializers.CharField(allow_null=True, help_text="As scanned (AI 10).")
    expiry = serializers.DateField(allow_null=True, help_text="As scanned (AI 17).")
    status = serializers.ChoiceField(choices=SerialStatus.choices, allow_null=True)
    decommission_reason = serializers.CharField(allow_null=True)
    batch = VerifyBatchSerializer(allow_null=True)
    site = VerifySiteSerializer(allow_null=True)
    container = VerifyContainerSerializer(
        allow_null=True, help_text="The case or pallet the pack is directly in."
    )
    top_container = VerifyContainerSerializer(
        allow_null=True, help_text="The outermost container: its pallet, or its case."
    )
    reasons = VerifyReasonSerializer(many=True)


# --- containers -------------------------------------------------------------------


class ContainerOutputSerializer(serializers.ModelSerializer):
    gs1 = serializers.SerializerMethodField(help_text="GS1 element string, (00) and the SSCC.")
    digital_link = serializers.SerializerMethodField(help_text="GS1 Digital Link URI.")
    site = serializers.UUIDField(source="site_id", read_only=True)
    batch = serializers.UUIDField(source="batch_id", read_only=True, allow_null=True)
    # A field named like Field.parent (the serializer that holds a field): DRF keeps
    # declared fields apart from attributes, so only the type checker minds.
    parent = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="The SSCC of the container it is in."
    )

    class Meta:
        model = Container
        fields: tuple[str, ...] = (
            "id",
            "sscc",
            "gs1",
            "digital_link",
            "kind",
            "site",
            "batch",
            "parent",
            "status",
            "shipped_at",
            "destination_gln",
            "shipping_reference",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_gs1(self, container: Container) -> str:
        return sscc.element_string(container.sscc)

    def get_digital_link(self, container: Container) -> str:
        return sscc.digital_link(container.sscc)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_parent(self, container: Container) -> str | None:
        return container.parent.sscc if container.parent is not None else None


class ContainerChildSerializer(serializers.Serializer):
    """A direct child: a case (``sscc``) or a pack (``gtin``, ``serial``)."""

    type = serializers.ChoiceField(choices=["case", "pack"])
    gs1 = serializers.CharField()
    sscc = serializers.CharField(required=False)
    gtin = serializers.CharField(required=False)
    serial = serializers.CharField(required=False)
    batch = serializers.UUIDField(required=False)
    status = serializers.CharField()


class ContainerChildrenSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True, help_text="The next page of children.")
    results = ContainerChildSerializer(many=True)


class ContainerDetailOutputSerializer(ContainerOutputSerializer):
    pack_count = serializers.IntegerField(read_only=True, help_text="Packs in the whole tree.")
    children = ContainerChildrenSerializer(read_only=True)

    class Meta(ContainerOutputSerializer.Meta):
        fields = (*ContainerOutputSerializer.Meta.fields, "pack_count", "children")
        read_only_fields = fields


class ContainerCreateInputSerializer(StrictInputSerializer):
    echo_serializer = ContainerOutputSerializer

    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.none())
    kind = serializers.ChoiceField(choices=ContainerKind.choices)
    batch = serializers.PrimaryKeyRelatedField(
        queryset=Batch.objects.none(), required=False, allow_null=True, default=None
    )


class ChildrenInputSerializer(StrictInputSerializer):
    children = serializers.ListField(
        child=serializers.CharField(max_length=100, trim_whitespace=False),
        min_length=1,
        max_length=settings.CONTAINER_PACK_MAX,
        help_text="GS1 element strings of packs ((01)…(21)…) or containers ((00)…).",
    )


class UnpackInputSerializer(StrictInputSerializer):
    children = serializers.ListField(
        child=serializers.CharField(max_length=100, trim_whitespace=False),
        min_length=1,
        max_length=settings.CONTAINER_PACK_MAX,
        required=False,
        help_text="What to take out; everything when left out.",
    )


class PackedOutputSerializer(serializers.Serializer):
    container = serializers.CharField(help_text="The container's SSCC.")
    packs = serializers.IntegerField(help_text="Packs put in or taken out.")
    containers = serializers.IntegerField(help_text="Cases put in or taken out.")
    pack_count = serializers.IntegerField(help_text="Packs in the whole tree now.")


class ShipInputSerializer(StrictInputSerializer):
    destination_gln = serializers.CharField(min_length=13, max_length=13)
    reference = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}\Z",
        required=False,
        default="",
        help_text="A despatch advice or delivery number (letters, digits, . _ / -).",
        error_messages={
            "invalid": "1 to 64 letters, digits or . _ / - (starting with one of the first two)."
        },
    )

    def validate_destination_gln(self, value: str) -> str:
        try:
            validate_gln(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from exc
        return value


class ShippedOutputSerializer(serializers.Serializer):
    container = serializers.CharField()
    containers = serializers.IntegerField(help_text="Containers shipped: it and its cases.")
    packs = serializers.IntegerField(help_text="Packs moved to shipped.")
    destination_gln = serializers.CharField()
    shipped_at = serializers.DateTimeField()
