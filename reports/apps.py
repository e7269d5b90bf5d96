from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Reports over the whole domain and the beat schedule of every periodic job.

    At the end of the dependency chain: the daily QA report reads batches (and through
    them sites) and inspections, the weekly digest reads the audit trail and the job
    records of core, so nothing else may import this app. Its migrations also create the
    schedule of the account jobs, which keeps accounts free of a dependency on beat.
    """

    name = "reports"
    verbose_name = "Reports and scheduled jobs"
    default_auto_field = "django.db.models.BigAutoField"
