"""gunicorn config for the benchmark's baseline only: model-change capture switched off.

Used to measure what the audit trail costs; never a way to run the service.
"""


def post_worker_init(worker):
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from core.signals import bulk_write

    post_save.disconnect(dispatch_uid="audit_post_save")
    post_delete.disconnect(dispatch_uid="audit_post_delete")
    m2m_changed.disconnect(dispatch_uid="audit_m2m")
    bulk_write.disconnect(dispatch_uid="audit_bulk_write")
