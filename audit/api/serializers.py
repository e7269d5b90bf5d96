from rest_framework import serializers

from audit.canonical import CONTENT_FIELDS
from audit.models import AuditLog
from core.serializers import CachedFieldsMixin


class AuditLogOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = CONTENT_FIELDS  # what is recorded, and MAC'd, is what is shown
        read_only_fields = fields


PROBLEMS = ["altered", "removed", "inserted", "chain_broken", "seal_removed"]


class VerificationProblemSerializer(serializers.Serializer):
    problem = serializers.ChoiceField(choices=PROBLEMS)
    row_id = serializers.CharField(allow_null=True)
    seq = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField(allow_blank=True)


class VerificationOutputSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    sealed = serializers.IntegerField(help_text="Links in the seal chain.")
    records = serializers.IntegerField(help_text="Records in the table.")
    unsealed = serializers.IntegerField(help_text="Records waiting to be sealed.")
    archived = serializers.IntegerField(
        help_text="Sealed records of months detached with a verified archive."
    )
    oldest_unsealed_age_seconds = serializers.FloatField(allow_null=True)
    problem = serializers.ChoiceField(choices=PROBLEMS, allow_null=True)
    row_id = serializers.CharField(allow_null=True, help_text="The first record in question.")
    seq = serializers.IntegerField(allow_null=True, help_text="The seal in question.")
    detail = serializers.CharField(allow_blank=True)
    problems = VerificationProblemSerializer(
        many=True, help_text="Every problem found, in order, the first 100 of them."
    )
    problem_count = serializers.IntegerField(help_text="How many problems were found.")
