from django.db.models import QuerySet

from inspections.models import Inspection


def inspection_list() -> QuerySet[Inspection]:
    return Inspection.objects.select_related("batch", "signature", "superseded_by")
