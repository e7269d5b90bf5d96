from django.urls import path
from rest_framework.routers import SimpleRouter

from serializations.api import epcis, views

router = SimpleRouter()
router.register("serials", views.SerialViewSet, basename="serial")
router.register("serial-jobs", views.SerialJobViewSet, basename="serial-job")
router.register("containers", views.ContainerViewSet, basename="container")

batch_serials = views.BatchSerialViewSet.as_view({"get": "list", "post": "create"})
# Routed by hand (not by the router), so the action's own options (its CSV renderer)
# are passed as the router would.
batch_serials_export = views.BatchSerialViewSet.as_view(
    {"get": "export"}, **views.BatchSerialViewSet.export.kwargs
)

epcis_events = epcis.EPCISEventViewSet.as_view({"get": "list"})
batch_epcis = epcis.BatchEPCISViewSet.as_view({"get": "list"})
epcis_capture = epcis.CaptureView.as_view({"post": "create"})

urlpatterns = [
    path("epcis/events/", epcis_events, name="epcis-events"),
    path("epcis/capture/", epcis_capture, name="epcis-capture"),
    path("batches/<uuid:batch_pk>/epcis/", batch_epcis, name="batch-epcis"),
    path("batches/<uuid:batch_pk>/serials/", batch_serials, name="batch-serials"),
    path(
        "batches/<uuid:batch_pk>/serials/export/",
        batch_serials_export,
        name="batch-serials-export",
    ),
    *router.urls,
]
