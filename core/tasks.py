from __future__ import annotations

import smtplib
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def render_email(template: str, to: list[str], context: dict[str, Any]) -> EmailMultiAlternatives:
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=f"{settings.EMAIL_SUBJECT_PREFIX}{subject}",
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    message.attach_alternative(html, "text/html")
    return message


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_templated_email(
    self: Any,
    outbox_id: str | None = None,
    *,
    template: str = "",
    to: list[str] | None = None,
    context: dict[str, Any] | None = None,
) -> int:
    """Send one outbox message; SMTP and network errors retry with backoff.

    ``template``/``to``/``context`` without ``outbox_id``: a message published before the
    outbox existed, still in a queue; sent as it was then.
    """
    from core.emails import give_up, send_outbox_email

    if outbox_id is None:
        return render_email(template, to or [], context or {}).send()
    try:
        return send_outbox_email(outbox_id)
    except (smtplib.SMTPException, OSError) as exc:
        if self.request.retries >= self.max_retries:
            give_up(outbox_id, repr(exc))
        raise


@shared_task
def dispatch_email_outbox(min_age_seconds: float | None = None) -> int:
    """Beat job: publish e-mails the broker could not take when their change committed."""
    from core.emails import dispatch_outbox

    if min_age_seconds is None:
        return dispatch_outbox()
    return dispatch_outbox(timedelta(seconds=min_age_seconds))
