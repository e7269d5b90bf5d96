"""The audit trail's own kinds of record: generic changes, access and security events.

Domain apps register theirs (see ``audit.kinds``); these are registered by the audit
app itself.
"""

from django.db import models

from audit.kinds import Kind


class Action(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    BULK_CREATE = "bulk_create", "Bulk create"
    BULK_UPDATE = "bulk_update", "Bulk update"
    M2M_ADD = "m2m_add", "Members added"
    M2M_REMOVE = "m2m_remove", "Members removed"
    M2M_CLEAR = "m2m_clear", "Members cleared"
    ESIGNATURE = "esignature", "Electronic signature"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed", "Sign-in failed"
    LOCKOUT = "lockout"
    LOGOUT = "logout"
    TOKEN_REFRESH = "token_refresh"  # noqa: S105
    TOKEN_REUSE = "token_reuse"  # noqa: S105
    PERMISSION_DENIED = "permission_denied"
    REQUEST = "request"


# Records written in the transaction of the change they describe.
CHANGES = frozenset(
    {
        Action.CREATE,
        Action.UPDATE,
        Action.DELETE,
        Action.BULK_CREATE,
        Action.BULK_UPDATE,
        Action.M2M_ADD,
        Action.M2M_REMOVE,
        Action.M2M_CLEAR,
        Action.ESIGNATURE,
    }
)

# Changes of an existing row (a GMP record's need a reason for change).
EDITS = frozenset(
    {
        Action.UPDATE,
        Action.DELETE,
        Action.BULK_UPDATE,
        Action.M2M_ADD,
        Action.M2M_REMOVE,
        Action.M2M_CLEAR,
    }
)

KINDS = tuple(
    Kind(action.value, str(action.label), change=action in CHANGES, edit=action in EDITS)
    for action in Action
)
