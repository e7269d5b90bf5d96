"""Framework events that apps announce and others (the audit trail) record.

Defined here, in the app everything may depend on, so that accounts and rbac can
announce them without importing the audit app.
"""

from django.dispatch import Signal

# kwargs: action (str), user (a user or None), username (str), details (dict)
security_event = Signal()

# kwargs: user, codename (str), obj (the object or None), method (str)
permission_denied = Signal()

# Sent by core.models.TrackedQuerySet after a bulk write, inside its transaction.
# kwargs: action ("create" | "update"), ids (list), count (int), values (dict or None)
bulk_write = Signal()
