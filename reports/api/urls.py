from django.urls import path

from reports.api import views

urlpatterns = [
    path("reports/daily/", views.DailyReportView.as_view(), name="report-daily"),
    path(
        "batches/<uuid:pk>/certificate/",
        views.CertificateView.as_view(),
        name="batch-certificate",
    ),
    path(
        "products/<uuid:pk>/quality-review/",
        views.QualityReviewView.as_view(),
        name="product-quality-review",
    ),
]
