from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Reports over the whole domain: the daily QA report and the weekly digest, and
    the beat schedule of those two jobs (every app schedules its own jobs).

    At the end of the dependency chain: the daily QA report reads batches (and through
    them sites) and inspections, the weekly digest reads the audit trail and the job
    records of core, so nothing else may import this app.
    """

    name = "reports"
    verbose_name = "Reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import kinds
        from reports import events

        kinds.register(*events.KINDS)
