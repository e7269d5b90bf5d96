from rest_framework import serializers

from core.serializers import CachedFieldsMixin, StrictInputSerializer
from sites.models import Site
from sites.services import SITE_FIELDS


class SiteOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ("id", *SITE_FIELDS, "created_at", "updated_at")
        read_only_fields = fields


class SiteInputSerializer(StrictInputSerializer):
    """Model validators (GLN check digit, ISO country, IANA zone) run in the service."""

    echo_serializer = SiteOutputSerializer

    code = serializers.CharField(max_length=16)
    name = serializers.CharField(max_length=200)
    gln = serializers.CharField(max_length=13, min_length=13)
    address = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, min_length=2)
    timezone = serializers.CharField(max_length=64, required=False)
    is_active = serializers.BooleanField(required=False)
    gs1_company_prefix = serializers.CharField(max_length=12, required=False, allow_blank=True)
    allow_mixed_cases = serializers.BooleanField(required=False)
