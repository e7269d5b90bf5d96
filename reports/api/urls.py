from django.urls import path

from reports.api import views

urlpatterns = [
    path("reports/daily/", views.DailyReportView.as_view(), name="report-daily"),
]
