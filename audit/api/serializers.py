from typing import Any

from rest_framework import serializers

from audit.canonical import CONTENT_FIELDS
from audit.models import AuditLog
from core.serializers import CachedFieldsMixin


class AuditLogOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer[Any]):
    class Meta:
        model = AuditLog
        fields = CONTENT_FIELDS  # what is recorded, and MAC'd, is what is shown
        read_only_fields = fields


PROBLEMS = [
    "altered",
    "removed",
    "inserted",
    "chain_broken",
    "seal_removed",
    "truncated",
    "witness_mismatch",
    "witness_behind",
    "witness_unavailable",
    "seal_lag",
    "checkpoint_invalid",
]


class VerifyQuerySerializer(serializers.Serializer[Any]):
    full = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Check from the first seal instead of from the latest checkpoint.",
    )


class WitnessHeadSerializer(serializers.Serializer[Any]):
    seq = serializers.IntegerField()
    hash = serializers.CharField()
    sealed_at = serializers.CharField()
    witness = serializers.ChoiceField(choices=["file", "s3"])


class VerificationProblemSerializer(serializers.Serializer[Any]):
    problem = serializers.ChoiceField(choices=PROBLEMS)
    row_id = serializers.CharField(allow_null=True)
    seq = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField(allow_blank=True)


class VerificationOutputSerializer(serializers.Serializer[Any]):
    ok = serializers.BooleanField()
    mode = serializers.ChoiceField(
        choices=["incremental", "full"],
        help_text="incremental: from the latest valid checkpoint; full: from the first seal.",
    )
    checkpoint_seq = serializers.IntegerField(
        allow_null=True, help_text="The seal the incremental run started after."
    )
    sealed = serializers.IntegerField(help_text="Links in the seal chain.")
    records = serializers.IntegerField(
        help_text="Records known intact: sealed up to the checkpoint, and those checked."
    )
    unsealed = serializers.IntegerField(help_text="Records waiting to be sealed.")
    archived = serializers.IntegerField(
        help_text="Sealed records of months detached with a verified archive."
    )
    checked_seals = serializers.IntegerField(help_text="Seals this run read.")
    checked_records = serializers.IntegerField(help_text="Records this run read.")
    oldest_unsealed_age_seconds = serializers.FloatField(allow_null=True)
    witness = WitnessHeadSerializer(
        allow_null=True, help_text="The highest head the witnesses hold (none: no witness)."
    )
    problem = serializers.ChoiceField(choices=PROBLEMS, allow_null=True)
    row_id = serializers.CharField(allow_null=True, help_text="The first record in question.")
    seq = serializers.IntegerField(allow_null=True, help_text="The seal in question.")
    detail = serializers.CharField(allow_blank=True)
    problems = VerificationProblemSerializer(
        many=True, help_text="Every problem found, in order, the first 100 of them."
    )
    problem_count = serializers.IntegerField(help_text="How many problems were found.")
