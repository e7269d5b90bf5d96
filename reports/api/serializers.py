from __future__ import annotations

import datetime as dt
from datetime import UTC
from typing import Any

from django.utils import timezone
from rest_framework import serializers

DATE_IN_FUTURE = "The report of a day that has not begun does not exist yet."


class DailyReportQuerySerializer(serializers.Serializer):
    date = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"], help_text="YYYY-MM-DD (UTC); default yesterday."
    )

    def validate_date(self, value: dt.date) -> dt.date:
        if value > timezone.now().astimezone(UTC).date():
            raise serializers.ValidationError(DATE_IN_FUTURE)
        return value


class ReportSiteSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()


class ReportBatchSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    batch_number = serializers.CharField()
    product = serializers.CharField()
    gtin = serializers.CharField()
    at = serializers.DateTimeField(help_text="Released, rejected or (quarantine) completed at.")


class ReportQuarantineSerializer(ReportBatchSerializer):
    waiting_hours = serializers.FloatField(help_text="Hours in quarantine at the end of the day.")


class ReportInspectionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    batch_id = serializers.UUIDField()
    batch_number = serializers.CharField()
    kind = serializers.CharField()
    at = serializers.DateTimeField()
    failing_parameters = serializers.ListField(child=serializers.CharField())


class ReportTotalsSerializer(serializers.Serializer):
    released = serializers.IntegerField()
    rejected = serializers.IntegerField()
    quarantine = serializers.IntegerField()
    quarantine_longest_hours = serializers.FloatField(allow_null=True)
    failed_inspections = serializers.IntegerField()


class ReportSectionSerializer(serializers.Serializer):
    site = ReportSiteSerializer()
    released = ReportBatchSerializer(many=True)
    rejected = ReportBatchSerializer(many=True)
    quarantine = ReportQuarantineSerializer(many=True)
    failed_inspections = ReportInspectionSerializer(many=True)
    totals = ReportTotalsSerializer()


class DailyReportOutputSerializer(serializers.Serializer):
    """Documentation of the report's shape; the selector builds it as plain data."""

    date = serializers.DateField()
    generated_at = serializers.DateTimeField()
    sites = ReportSectionSerializer(many=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField(help_text="Start of the UTC day.")
        fields["to"] = serializers.DateTimeField(help_text="End of the UTC day (exclusive).")
        return fields


class QualityReviewQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, help_text="The calendar year reviewed.")

    def validate_year(self, value: int) -> int:
        if value > timezone.now().year:
            raise serializers.ValidationError("A year still to come has nothing to review.")
        return value
