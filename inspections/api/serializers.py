from __future__ import annotations

import math
from typing import Any, cast

from rest_framework import serializers

from accounts.models import SignatureMeaning
from audit.api.reasons import reason_field
from batches.api.serializers import SignatureOutputSerializer
from batches.models import Batch
from core.serializers import READ_ONLY_FIELD, CachedFieldsMixin, StrictInputSerializer
from inspections.choices import InspectionKind, Outcome
from inspections.models import Inspection
from inspections.services import Measurement, evaluate


class ResultOutputSerializer(serializers.Serializer):
    parameter = serializers.CharField()
    value = serializers.FloatField()
    unit = serializers.CharField(allow_blank=True)
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    in_spec = serializers.BooleanField()


class InspectionOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    results = ResultOutputSerializer(many=True, read_only=True)
    signature = SignatureOutputSerializer(read_only=True, allow_null=True)
    superseded_by = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = (
            "id",
            "batch",
            "kind",
            "results",
            "notes",
            "performed_by",
            "performed_at",
            "status",
            "completed_at",
            "completed_by",
            "signature",
            "supersedes",
            "superseded_by",
            "correction_reason",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_superseded_by(self, obj: Inspection) -> str | None:
        successor = getattr(obj, "superseded_by", None)
        return str(successor.pk) if successor is not None else None


def _finite(value: float) -> None:
    if not math.isfinite(value):
        raise serializers.ValidationError("Must be a finite number.")


class MeasuredValueField(serializers.FloatField):
    """A JSON number; ``true``/``false`` are not measurements (DRF would take them as 1/0)."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class ResultInputSerializer(StrictInputSerializer):
    parameter = serializers.CharField(max_length=100)
    value = MeasuredValueField(validators=[_finite])
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    min = MeasuredValueField(required=False, allow_null=True, default=None, validators=[_finite])
    max = MeasuredValueField(required=False, allow_null=True, default=None, validators=[_finite])
    # Computed, never taken from the client: accepted only with the value it computes
    # to, so that a client may send back the results it read.
    in_spec = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A PATCH replaces the whole list of results, but DRF makes nested fields optional
        # in a partial update: each result still needs its parameter and value.
        missing = [name for name in ("parameter", "value") if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: [serializers.Field.default_error_messages["required"]] for name in missing}
            )
        attrs = {"unit": "", "min": None, "max": None, **attrs}
        low, high = attrs.get("min"), attrs.get("max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max": ["Must not be below min."]})
        echoed = attrs.pop("in_spec", None)
        if echoed is not None and echoed != evaluate([cast("Measurement", attrs)])[0]["in_spec"]:
            raise serializers.ValidationError({"in_spec": [READ_ONLY_FIELD]})
        return attrs


class InspectionCreateInputSerializer(StrictInputSerializer):
    batch = serializers.PrimaryKeyRelatedField(queryset=Batch.objects.all())
    kind = serializers.ChoiceField(choices=InspectionKind.choices)
    results = ResultInputSerializer(many=True, max_length=200)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    performed_at = serializers.DateTimeField(required=False)
    supersedes = serializers.PrimaryKeyRelatedField(
        queryset=Inspection.objects.all(), required=False, allow_null=True, default=None
    )
    correction_reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )

    def __init__(
        self,
        *args: Any,
        batch_queryset: Any = None,
        supersedes_queryset: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Batches (and their inspections) where the caller may not record inspections do
        # not exist for it: 400, like any unknown id.
        self.narrow("batch", batch_queryset)
        self.narrow("supersedes", supersedes_queryset)


class InspectionUpdateInputSerializer(StrictInputSerializer):
    echo_serializer = InspectionOutputSerializer

    kind = serializers.ChoiceField(choices=InspectionKind.choices, required=False)
    results = ResultInputSerializer(many=True, max_length=200, required=False)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    performed_at = serializers.DateTimeField(required=False)
    reason = reason_field()


class InspectionCompleteInputSerializer(StrictInputSerializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    meaning = serializers.ChoiceField(choices=SignatureMeaning.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class TrendQuerySerializer(serializers.Serializer):
    parameter = serializers.CharField(max_length=100, help_text="The result's parameter name.")
    since = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"], help_text="Manufactured on or after."
    )
    until = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"], help_text="Manufactured on or before."
    )
    baseline = serializers.IntegerField(
        required=False,
        min_value=2,
        max_value=10_000,
        default=20,
        help_text="How many of the first points set the centre line and control limits.",
    )
    mark = serializers.UUIDField(
        required=False, help_text="A batch to ring on the chart (the one under review)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["Must not be before since."]})
        return attrs


class TrendPointOutputSerializer(serializers.Serializer):
    batch = serializers.UUIDField()
    batch_number = serializers.CharField()
    manufacturing_date = serializers.DateField()
    site = serializers.UUIDField()
    inspection = serializers.UUIDField()
    value = serializers.FloatField()
    unit = serializers.CharField(allow_blank=True)
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    out_of_specification = serializers.BooleanField()
    nelson_rules = serializers.ListField(
        child=serializers.IntegerField(), help_text="The Nelson rules (1 to 4) the point breaks."
    )


class TrendStatisticsOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    standard_deviation = serializers.FloatField(allow_null=True, help_text="Sample (n − 1).")
    baseline = serializers.IntegerField(help_text="Points in the baseline window.")
    centre_line = serializers.FloatField(allow_null=True, help_text="The baseline's mean.")
    baseline_sigma = serializers.FloatField(allow_null=True)
    upper_control_limit = serializers.FloatField(allow_null=True, help_text="Centre + 3σ.")
    lower_control_limit = serializers.FloatField(allow_null=True, help_text="Centre − 3σ.")
    lower_specification_limit = serializers.FloatField(allow_null=True)
    upper_specification_limit = serializers.FloatField(allow_null=True)
    cpk = serializers.FloatField(allow_null=True)


class TrendOutOfTrendOutputSerializer(serializers.Serializer):
    batch = serializers.UUIDField()
    batch_number = serializers.CharField()
    rules = serializers.ListField(child=serializers.IntegerField())


class TrendOutputSerializer(serializers.Serializer):
    product = serializers.UUIDField()
    product_name = serializers.CharField()
    parameter = serializers.CharField()
    unit = serializers.CharField(allow_blank=True)
    since = serializers.DateField(allow_null=True)
    until = serializers.DateField(allow_null=True)
    statistics = TrendStatisticsOutputSerializer()
    points = TrendPointOutputSerializer(many=True)
    out_of_specification = serializers.ListField(
        child=serializers.UUIDField(), help_text="Batches outside their own limits."
    )
    out_of_trend = TrendOutOfTrendOutputSerializer(many=True)
