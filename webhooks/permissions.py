"""Permission codenames checked by the webhooks app."""

from core.access import GLOBAL, Codename, declare

PERMISSIONS = declare(
    Codename(
        "webhook.manage",
        "Subscribe other systems to events (webhooks): create, change, test, redeliver",
        scope=GLOBAL,
    ),
)
