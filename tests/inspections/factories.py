import uuid

import factory
from django.utils import timezone

from accounts.models import ElectronicSignature
from batches.choices import BatchStatus
from inspections.choices import InspectionKind, InspectionStatus
from inspections.models import Inspection
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory


def in_spec_results() -> list[dict]:
    return [
        {
            "parameter": "assay",
            "value": 99.2,
            "unit": "%",
            "min": 95.0,
            "max": 105.0,
            "in_spec": True,
        }
    ]


class SignatureFactory(factory.django.DjangoModelFactory):
    """A stored signature (the API makes them only after re-authentication)."""

    class Meta:
        model = ElectronicSignature

    signer = factory.SubFactory(UserFactory)
    printed_name = factory.LazyAttribute(lambda o: o.signer.printed_name)
    signed_at = factory.LazyFunction(timezone.now)
    meaning = "approval"
    record_type = "inspections.inspection"
    record_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    content_hash = "0" * 64


class InspectionFactory(factory.django.DjangoModelFactory):
    """A pending inspection of a batch in quarantine; ``passed``/``failed`` complete and
    sign it (as its performer)."""

    class Meta:
        model = Inspection

    batch = factory.SubFactory(BatchFactory, status=BatchStatus.QUARANTINE)
    kind = InspectionKind.ASSAY
    results = factory.LazyFunction(in_spec_results)
    notes = ""
    performed_by = factory.SubFactory(UserFactory)
    status = InspectionStatus.PENDING

    class Params:
        passed = factory.Trait(
            status=InspectionStatus.PASSED,
            completed_at=factory.LazyFunction(timezone.now),
            completed_by=factory.SelfAttribute("performed_by"),
            signature=factory.SubFactory(
                SignatureFactory, signer=factory.SelfAttribute("..performed_by")
            ),
        )
        failed = factory.Trait(
            status=InspectionStatus.FAILED,
            completed_at=factory.LazyFunction(timezone.now),
            completed_by=factory.SelfAttribute("performed_by"),
            signature=factory.SubFactory(
                SignatureFactory,
                signer=factory.SelfAttribute("..performed_by"),
                meaning="review",
            ),
        )
