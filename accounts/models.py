from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower

from accounts import auth_cache, usernames
from core.context import SystemActor
from core.models import AuditedModel, TrackedModel, TrackedQuerySet


class UserQuerySet(TrackedQuerySet):
    def update(self, **kwargs: Any) -> int:
        """A bulk write is a change of the cached users like a save: their versions move
        in the same UPDATE. A new username gets its skeleton, as ``save`` gives it, so
        the look-alike constraint holds on this path too."""
        if isinstance(kwargs.get("username"), str):
            kwargs["username"] = usernames.normalize(kwargs["username"])
            kwargs["username_skeleton"] = usernames.skeleton(kwargs["username"])
        if "auth_version" in kwargs:  # ``bump_auth_versions`` itself
            return super().update(**kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            ids = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs, auth_version=models.F("auth_version") + 1)
            self._invalidate_cached(ids)
        return count

    def bump_auth_versions(self, user_ids: Iterable[Any]) -> None:
        """Something that decides these users' access changed: new version, in this
        transaction."""
        ids = list({str(pk) for pk in user_ids if pk is not None})
        if not ids:
            return
        self.filter(pk__in=ids).update(auth_version=models.F("auth_version") + 1)
        self._invalidate_cached(ids)

    def _invalidate_cached(self, user_ids: list[Any]) -> None:
        """Point the cache at these users' current versions (already moved here)."""
        versions = self.model._base_manager.using(self.db).filter(pk__in=user_ids)
        auth_cache.invalidate_versions(versions.values_list("pk", "auth_version"))

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        # bulk_create skips save(): normalise here, so the skeleton's unique constraint
        # guards these rows too.
        objs = list(objs)
        for user in objs:
            user.username = usernames.normalize(user.username)
            user.username_skeleton = usernames.skeleton(user.username)
        return super().bulk_create(objs, *args, **kwargs)


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    def get_by_natural_key(self, username: str | None) -> User:
        result: User = self.get(username=username)
        return result

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return (email or "").strip().lower()

    def _create_user(self, username: str, email: str | None, password: str | None, **extra: Any):  # type: ignore[no-untyped-def]
        # createsuperuser and scripts come through here: the same rules as every other
        # door (character set, case-insensitive and look-alike uniqueness).
        user = self._create_user_object(username, email, password, **extra)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user


class User(AuditedModel, TrackedModel, AbstractUser):
    """A person who signs in: plant staff, QA, auditors, administrators.

    E-mail is unique regardless of case and stored lower case. The username is stored
    NFKC-normalised, in a safe character set, unique regardless of case and of
    look-alike characters (``username_skeleton``, see accounts/usernames.py); signing in
    takes the exact stored name. ``token_epoch`` is embedded in every token issued;
    bumping it revokes every token at once.
    """

    audit_exclude = frozenset({"auth_version", "last_login"})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(
        "username",
        max_length=usernames.USERNAME_MAX_LENGTH,
        unique=True,
        help_text=usernames.USERNAME_HELP,
        validators=[usernames.validate_username],
        error_messages={"unique": usernames.USERNAME_TAKEN},
    )
    username_skeleton = models.CharField(max_length=600, editable=False, default="")
    email = models.EmailField(
        "email address", max_length=254, validators=[usernames.validate_email_domain]
    )
    phone = models.CharField(max_length=32, blank=True)
    address = models.TextField(blank=True, max_length=500)
    token_epoch = models.PositiveIntegerField(default=1, editable=False)
    auth_version = models.PositiveBigIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with this e-mail address already exists.",
            ),
            # Created by migration 0004 only on a database without collisions (it lists
            # them otherwise; `manage.py check_usernames --add-constraints` adds them).
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message=usernames.USERNAME_TAKEN,
            ),
            models.UniqueConstraint(
                fields=["username_skeleton"],
                name="accounts_user_username_skeleton_unique",
                violation_error_message=usernames.USERNAME_CONFUSABLE,
            ),
        ]
        indexes = [models.Index(fields=["is_active", "username"])]

    def __str__(self) -> str:
        return self.username

    def clean(self) -> None:
        super().clean()  # NFKC-normalises the username
        self.email = UserManager.normalize_email(self.email)
        self.username_skeleton = usernames.skeleton(self.username)
        loaded = self.loaded_values
        if loaded is not None and loaded.get("username") == self.username:
            # A stored name is not refused again: look-alikes from before the rules stay
            # until renamed (``check_usernames``), and can still be edited or deactivated.
            return
        # One query: equal skeletons include every case-insensitive duplicate.
        existing = (
            User.objects.filter(username_skeleton=self.username_skeleton)
            .exclude(pk=self.pk)
            .values_list("username", flat=True)
            .first()
        )
        if existing is not None:
            same = existing.casefold() == self.username.casefold()
            raise ValidationError(
                {"username": usernames.USERNAME_TAKEN if same else usernames.USERNAME_CONFUSABLE}
            )

    def validate_constraints(self, exclude: Any = None) -> None:
        # clean() reports a look-alike under "username"; the constraint on the skeleton
        # is the database's guard against a concurrent insert, not a second message.
        super().validate_constraints(exclude={*(exclude or ()), "username_skeleton"})

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = UserManager.normalize_email(self.email)
        self.username = usernames.normalize(self.username)
        self.username_skeleton = usernames.skeleton(self.username)
        if self._state.adding:
            super().save(*args, **kwargs)
            return
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            # ``auth_version`` is only ever written as an increment, so a stale instance
            # can never move it backwards.
            update_fields = {f.name for f in self._meta.concrete_fields if not f.primary_key} - {
                "auth_version"
            }
        # The whole row is cached (name, e-mail, flags): any change of a field saved
        # moves the version, so the next request reads the user as they are now (the
        # printed name on a signature, the username on an audit record).
        changed = self._changed_fields(update_fields)
        if changed:
            self.auth_version = models.F("auth_version") + 1
            update_fields = {*update_fields, "auth_version"}
        if "username" in update_fields:
            update_fields = {*update_fields, "username_skeleton"}
        kwargs["update_fields"] = update_fields
        super().save(*args, **kwargs)
        if changed:
            self.refresh_from_db(fields=["auth_version"])
            auth_cache.invalidate_user(self.pk, self.auth_version)

    def _changed_fields(self, update_fields: Any) -> set[str]:
        loaded = self.loaded_values
        attnames = {field.name: field.attname for field in self._meta.concrete_fields}
        names = {attnames[n] for n in update_fields if n != "updated_at"}
        if loaded is None:  # not loaded from the database: assume everything changed
            return names
        return {n for n in names if n != "auth_version" and loaded.get(n) != getattr(self, n)}

    @property
    def printed_name(self) -> str:
        """The name shown on electronic signatures (Part 11 §11.50)."""
        return self.get_full_name() or self.username


class UserSession(AuditedModel, TrackedModel):
    """One signed-in device: created at login, followed through token rotation.

    Ended by logout, by the user deleting it, by a password change (the other sessions)
    or by deactivation. Tokens carry the session id (``sid``); an ended session's
    tokens are refused.
    """

    audit_exclude = frozenset({"refresh_jti"})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    refresh_jti = models.CharField(max_length=64, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class SignatureMeaning(models.TextChoices):
    APPROVAL = "approval"
    REJECTION = "rejection"
    REVIEW = "review"
    RESPONSIBILITY = "responsibility"


class ImmutableQuerySet(TrackedQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Electronic signatures cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Electronic signatures cannot be deleted.")


# What a signature shows wherever it is shown (the API's batch detail, the admin), in
# this order: §11.50 asks for the printed name, the time and the meaning with it.
SIGNATURE_FIELDS = (
    "id",
    "signer",
    "printed_name",
    "signed_at",
    "meaning",
    "reason",
    "record_type",
    "record_id",
    "content_hash",
)


class ElectronicSignature(AuditedModel, TrackedModel):
    """An electronic signature (21 CFR Part 11 §11.50, §11.70, §11.200).

    Made only after re-authentication with the signer's password. Records the
    signer, their printed name, the UTC time, the meaning, the reason, the signed
    record's type and id, and a SHA-256 of the record's content at signing, which
    links the signature to exactly that content. Immutable once written.
    """

    audit_create_kind = "esignature"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    signer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="signatures")
    printed_name = models.CharField(max_length=300)
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=20, choices=SignatureMeaning)
    reason = models.TextField(blank=True, max_length=2000)
    record_type = models.CharField(max_length=64)
    record_id = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64)

    objects: ClassVar[models.Manager[ElectronicSignature]] = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["record_type", "record_id"])]

    def __str__(self) -> str:
        return f"{self.printed_name} ({self.meaning}) {self.signed_at:%Y-%m-%d %H:%M} UTC"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("Electronic signatures cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("Electronic signatures cannot be deleted.")


# Who a service acts for: a person, or a named system actor (core.context.acting_as_system).
Actor = User | SystemActor
