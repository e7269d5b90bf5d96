from django.db import models


class Action(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    BULK_CREATE = "bulk_create"
    BULK_UPDATE = "bulk_update"
    BULK_DELETE = "bulk_delete"
    M2M_ADD = "m2m_add"
    M2M_REMOVE = "m2m_remove"
    M2M_CLEAR = "m2m_clear"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKOUT = "lockout"
    LOGOUT = "logout"
    TOKEN_REFRESH = "token_refresh"  # noqa: S105
    TOKEN_REUSE = "token_reuse"  # noqa: S105
    PERMISSION_DENIED = "permission_denied"
    REQUEST = "request"
    ESIGNATURE = "esignature"
    BATCH_START = "batch_start"
    BATCH_COMPLETE = "batch_complete"
    BATCH_RELEASE = "batch_release"
    BATCH_REJECT = "batch_reject"
    SERIAL_GENERATE = "serial_generate"
    SERIAL_STATUS = "serial_status"
    INSPECTION_COMPLETE = "inspection_complete"
    ACCOUNT_DEACTIVATED = "account_deactivated"


# Records written in the transaction of the change they describe.
CHANGE_ACTIONS = frozenset(
    {
        Action.CREATE,
        Action.UPDATE,
        Action.DELETE,
        Action.BULK_CREATE,
        Action.BULK_UPDATE,
        Action.BULK_DELETE,
        Action.M2M_ADD,
        Action.M2M_REMOVE,
        Action.M2M_CLEAR,
    }
)
