from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from accounts.models import SIGNATURE_FIELDS, ElectronicSignature, SignatureMeaning
from audit.api.reasons import reason_field
from batches.models import Batch, Product
from core.serializers import CachedFieldsMixin, StrictInputSerializer
from sites.models import Site


class ProductOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = (
            "id",
            "gtin",
            "name",
            "strength",
            "dosage_form",
            "is_active",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ProductInputSerializer(StrictInputSerializer):
    echo_serializer = ProductOutputSerializer

    gtin = serializers.CharField(max_length=14, min_length=14)
    name = serializers.CharField(max_length=200)
    strength = serializers.CharField(max_length=100, required=False, allow_blank=True)
    dosage_form = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    reason = reason_field()


class BatchProductSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ("id", "gtin", "name", "strength")
        read_only_fields = fields


class BatchListOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    """What a list row shows; the detail adds who/when and signatures."""

    product = BatchProductSerializer(read_only=True)
    site = serializers.UUIDField(source="site_id", read_only=True)
    site_code = serializers.CharField(source="site.code", read_only=True)

    class Meta:
        model = Batch
        fields: tuple[str, ...] = (
            "id",
            "batch_number",
            "product",
            "site",
            "site_code",
            "status",
            "planned_quantity",
            "produced_quantity",
            "manufacturing_date",
            "expiry_date",
        )
        read_only_fields = fields


class SignatureOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = ElectronicSignature
        fields = SIGNATURE_FIELDS
        read_only_fields = fields


class BatchDetailOutputSerializer(BatchListOutputSerializer):
    release_signature = SignatureOutputSerializer(read_only=True, allow_null=True)
    rejection_signature = SignatureOutputSerializer(read_only=True, allow_null=True)

    class Meta(BatchListOutputSerializer.Meta):
        fields = (
            *BatchListOutputSerializer.Meta.fields,
            "created_at",
            "updated_at",
            "created_by",
            "started_at",
            "started_by",
            "completed_at",
            "completed_by",
            "released_at",
            "released_by",
            "rejected_at",
            "rejected_by",
            "release_signature",
            "rejection_signature",
        )
        read_only_fields = fields


class BatchCreateInputSerializer(StrictInputSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    # Not trimmed: a lot with a leading tab or space is refused, not silently changed.
    batch_number = serializers.CharField(max_length=20, trim_whitespace=False)
    planned_quantity = serializers.IntegerField(min_value=1, max_value=2_000_000_000)
    manufacturing_date = serializers.DateField()
    expiry_date = serializers.DateField()

    def __init__(
        self, *args: Any, site_queryset: QuerySet[Site] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # A site where the caller may not plan batches does not exist for it: 400.
        self.narrow("site", site_queryset)


class BatchUpdateInputSerializer(StrictInputSerializer):
    echo_serializer = BatchDetailOutputSerializer

    planned_quantity = serializers.IntegerField(
        min_value=1, max_value=2_000_000_000, required=False
    )
    produced_quantity = serializers.IntegerField(
        min_value=0, max_value=2_000_000_000, required=False, allow_null=True
    )
    manufacturing_date = serializers.DateField(required=False)
    expiry_date = serializers.DateField(required=False)
    reason = reason_field()


class BatchCompleteInputSerializer(StrictInputSerializer):
    produced_quantity = serializers.IntegerField(min_value=0, max_value=2_000_000_000)


class SignInputSerializer(StrictInputSerializer):
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    meaning = serializers.ChoiceField(choices=SignatureMeaning.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RejectInputSerializer(SignInputSerializer):
    meaning = serializers.ChoiceField(
        choices=SignatureMeaning.choices, required=False, default=SignatureMeaning.REJECTION
    )
    reason = serializers.CharField(max_length=2000)
