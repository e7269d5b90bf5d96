from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from core.models import AuditedModel, BaseModel, TrackedModel

CODENAME_RE = r"^[a-z][a-z_]*\.[a-z][a-z_]*$"


class Permission(AuditedModel, TrackedModel):
    """One ``resource.action`` codename; the catalogue is declared in code and synced."""

    codename = models.CharField(
        max_length=64, unique=True, validators=[RegexValidator(CODENAME_RE)]
    )
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["codename"]

    def __str__(self) -> str:
        return self.codename

    @property
    def resource(self) -> str:
        return self.codename.split(".", 1)[0]


class Role(AuditedModel, BaseModel):
    """A named set of permissions; roles are data, composed by administrators.

    ``synced_permissions`` remembers which codenames the catalogue sync has already
    offered a default role, so a permission an administrator removed is not re-added.
    """

    audit_exclude = frozenset({"synced_permissions"})

    name = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=255, blank=True)
    permissions = models.ManyToManyField(Permission, blank=True, related_name="roles")
    is_system = models.BooleanField(default=False, editable=False)
    synced_permissions = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(AuditedModel, BaseModel):
    """A user holds a role globally (``site`` empty) or at one site."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="assignments")
    # Named by label only: rbac imports nothing of sites.
    site = models.ForeignKey(
        "sites.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "site"],
                name="rbac_assignment_unique_site",
                condition=Q(site__isnull=False),
                violation_error_message="The user already holds this role at this site.",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                name="rbac_assignment_unique_global",
                condition=Q(site__isnull=True),
                violation_error_message="The user already holds this role globally.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role_id} @ {self.site_id or 'global'}"
