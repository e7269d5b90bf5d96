"""Every write on users, sessions and tokens."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import auth_cache, events, signin_guard
from accounts.authentication import check_token_user
from accounts.hashers import hashing_slot
from accounts.models import Actor, User, UserSession
from accounts.tokens import SESSION_CLAIM, RotatableRefreshToken, TokenPair, issue_tokens
from core import locking
from core.context import bind_user, get_context
from core.emails import queue_email
from core.exceptions import Forbidden
from core.models import OutboxEmail
from core.signals import security_event

logger = logging.getLogger(__name__)

INVALID_CREDENTIALS = "No active account found with the given credentials."
WRONG_PASSWORD = "The current password is not correct."  # noqa: S105
REFRESH_INVALID = "Token is invalid, expired or already used."
REFRESH_NOT_YOURS = "This refresh token does not belong to you."
# The audit action and session end reason of a reused refresh token.
TOKEN_REUSE = "token_reuse"  # noqa: S105

USER_EDITABLE_FIELDS = ("email", "first_name", "last_name", "phone", "address")
ADMIN_EDITABLE_FIELDS = (*USER_EDITABLE_FIELDS, "username", "is_active", "is_staff")
ACCESS_FLAGS = ("is_active", "is_staff", "is_superuser")
OWN_ACCESS = "You cannot change your own access (active, staff or superuser status)."
SUPERUSER_ONLY = "Only a superuser can grant or take away superuser status."
SUPERUSER_TARGET = "Only a superuser can change a superuser's account."
OWN_PASSWORD = "Change your own password with your current one (your profile), not here."  # noqa: S105


# --- users -------------------------------------------------------------------------

EMAIL_TAKEN = "A user with this e-mail address already exists."


def _check_email_free(user: User) -> None:
    # The case-insensitive unique constraint is the real guard; this gives a field error.
    taken = User.objects.filter(email__iexact=user.email.strip()).exclude(pk=user.pk).exists()
    if taken:
        raise ValidationError({"email": [EMAIL_TAKEN]})


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    address: str = "",
    is_active: bool = True,
    is_staff: bool = False,
) -> User:
    """Create a user (active by default); an active one gets the welcome e-mail after
    commit, an inactive one none, as it cannot sign in."""
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        address=address,
        is_active=is_active,
        is_staff=is_staff,
    )
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    user.set_password(password)
    _check_email_free(user)
    user.full_clean()
    user.save()  # published as user.created (accounts.signals)
    if not user.is_active:
        return user
    queue_email(
        template="welcome",
        to=[user.email],
        context={"name": user.printed_name, "username": user.username},
    )
    return user


def may_manage(actor: Actor, user: User) -> bool:
    """Whether ``actor`` may change ``user`` at all: a superuser's account is for
    superusers only (it could otherwise be taken over through its e-mail or password)."""
    return bool(getattr(actor, "is_superuser", False)) or not user.is_superuser


def editable_user_fields(*, actor: Actor, user: User | None) -> tuple[str, ...]:
    """The fields of ``user`` that ``actor`` (who holds ``user.update``) may change: never
    their own access flags, superuser status only as a superuser, nothing of a superuser
    unless one."""
    if user is not None and not may_manage(actor, user):
        return ()
    fields = list(ADMIN_EDITABLE_FIELDS)
    if getattr(actor, "is_superuser", False):
        fields.append("is_superuser")
    if user is not None and actor.pk == user.pk:
        fields = [f for f in fields if f not in ACCESS_FLAGS]
    return tuple(fields)


def _check_access_change(actor: Actor, user: User, data: Mapping[str, object]) -> None:
    changing = [f for f in ACCESS_FLAGS if f in data and data[f] != getattr(user, f)]
    if changing and actor.pk == user.pk:
        raise Forbidden(OWN_ACCESS, code="own_access")
    if "is_superuser" in changing and not actor.is_superuser:
        raise Forbidden(SUPERUSER_ONLY, code="superuser_only")
    if not may_manage(actor, user):
        raise Forbidden(SUPERUSER_TARGET, code="superuser_target")


def user_update(
    *, actor: Actor, user: User, data: Mapping[str, object], allowed: tuple[str, ...]
) -> User:
    """Change the given fields, which must be among ``allowed``; ``actor`` may never raise
    their own access, nor touch a superuser's account unless a superuser."""
    with locking.changing(user) as user:
        _check_access_change(actor, user, data)
        deactivating = False
        for name, value in data.items():
            if name not in allowed:
                raise ValueError(f"{name} is not editable here")
            if name == "is_active" and user.is_active and not value:
                deactivating = True
            setattr(user, name, value)
        if "email" in data:
            _check_email_free(user)
        # What is changed is validated; a stored value is not refused again by a rule newer
        # than the account (a username from before the look-alike rules, say).
        user.full_clean(exclude=[f.name for f in User._meta.fields if f.name not in data])
        user.save()
        if deactivating:
            _revoke_everything(user=user, reason="deactivated")
            events.user_deactivated(user=user)
    return user


def user_deactivate(*, actor: Actor, user: User) -> User:
    """Deactivate (records stay for the audit trail) and end every session: the same
    change as ``is_active=false`` through ``user_update``, by every door."""
    return user_update(actor=actor, user=user, data={"is_active": False}, allowed=("is_active",))


@transaction.atomic
def user_password_set(*, actor: Actor, user: User, new_password: str | None) -> User:
    """An administrator sets (or, with None, disables) another user's password: every
    token and session of that user ends and the user is told, as after a change of their
    own. One's own password changes only with the current one (``password_change``)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if actor.pk == user.pk:
        raise Forbidden(OWN_PASSWORD, code="own_password")
    if not may_manage(actor, user):
        raise Forbidden(SUPERUSER_TARGET, code="superuser_target")
    if new_password is None:
        user.set_unusable_password()
    else:
        try:
            password_validation.validate_password(new_password, user)
        except ValidationError as exc:
            raise ValidationError({"password": list(exc.messages)}) from exc
        user.set_password(new_password)
    user.token_epoch += 1
    user.save()
    _revoke_everything(user=user, reason="password_reset")
    _notify_password_changed(user)
    return user


def _revoke_everything(*, user: User, reason: str, keep_session_id: Any = None) -> None:
    sessions = UserSession.objects.filter(user=user, ended_at__isnull=True)
    if keep_session_id is not None:
        sessions = sessions.exclude(pk=keep_session_id)
    for session_id in list(sessions.values_list("pk", flat=True)):
        auth_cache.end_session(session_id)
    sessions.update(ended_at=timezone.now(), end_reason=reason)
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [
            BlacklistedToken(token_id=token_id)
            for token_id in outstanding.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )


# --- sign-in and tokens ------------------------------------------------------------


def _authenticate_guarded(*, request: HttpRequest, username: str, password: str) -> User | None:
    """The one password check of every door: an address over its budget of failed checks
    is refused before any hashing (429), a busy process before any query (503); axes
    counts the failure toward the username + IP lockout, the guard toward the IP's
    budget. The active user, or None."""
    ip = signin_guard.client_address(request)
    signin_guard.check(ip)
    with hashing_slot():  # held for the whole check
        user = authenticate(request=request, username=username, password=password)
    if user is None or not user.is_active:
        signin_guard.record_failure(ip)
        return None
    return user


def check_password_for(*, request: HttpRequest, user: User, password: str) -> bool:
    """Re-authenticate ``user`` (a signature, a password change) like a sign-in."""
    found = _authenticate_guarded(request=request, username=user.username, password=password)
    return found is not None and found.pk == user.pk


@transaction.atomic
def session_start(*, user: User, ip: str | None, user_agent: str) -> tuple[UserSession, TokenPair]:
    session = UserSession(
        user=user,
        refresh_jti="",
        ip=ip,
        user_agent=user_agent[:512],
        expires_at=timezone.now() + api_settings.REFRESH_TOKEN_LIFETIME,
    )
    session.save()
    return session, _session_tokens(user=user, session=session)


def _session_tokens(*, user: User, session: UserSession, **fields: Any) -> TokenPair:
    """A new pair for the session, which from now on follows the new refresh token."""
    tokens = issue_tokens(user=user, session=session)
    session.refresh_jti = tokens.refresh_jti
    for name, value in fields.items():
        setattr(session, name, value)
    session.save(update_fields=["refresh_jti", *fields])
    return tokens


def auth_login(*, request: HttpRequest, username: str, password: str) -> tuple[User, TokenPair]:
    """Check credentials (``_authenticate_guarded``) and open a session."""
    user = _authenticate_guarded(request=request, username=username, password=password)
    if user is None:
        raise exceptions.AuthenticationFailed(INVALID_CREDENTIALS, code="invalid_credentials")
    bind_user(user)
    ctx = get_context()
    with transaction.atomic():
        _, tokens = session_start(user=user, ip=ctx.ip, user_agent=ctx.user_agent)
        # Django's own signal: updates last_login and is recorded in the audit trail.
        user_logged_in.send(sender=User, request=request, user=user)
    return user, tokens


def _parse_refresh(raw: str) -> RefreshToken:
    try:
        # Signature, expiry, type, audience, issuer; the blacklist is read by
        # ``auth_refresh`` under the session lock, where a reused token is told apart.
        # Simplejwt tokens are built from their encoded string.
        return RotatableRefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise exceptions.AuthenticationFailed(REFRESH_INVALID, code="token_not_valid") from exc


def _blacklist_once(jti: str) -> bool:
    """Blacklist a refresh token; False if it already was (someone used it first)."""
    outstanding = OutstandingToken.objects.filter(jti=jti).first()
    if outstanding is None:
        return False
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    return created


def auth_refresh(*, raw_refresh: str) -> TokenPair:
    """Rotate a refresh token: exactly one of two concurrent uses succeeds.

    A refresh token used a second time means two parties hold it (OAuth 2.0 Security
    BCP, refresh token reuse detection): the whole session ends, so every access and
    refresh token issued from it, the thief's or the owner's, stops working; the owner
    signs in again. Audited as ``token_reuse``.
    """
    token = _parse_refresh(raw_refresh)
    user, _ = check_token_user(token)
    session_id = token[SESSION_CLAIM]
    with transaction.atomic():
        # The session row lock serialises concurrent refreshes of one session; the
        # blacklist insert then tells the loser that its token was already used.
        session = (
            UserSession.objects.select_for_update()
            .filter(pk=session_id, user=user, ended_at__isnull=True)
            .first()
        )
        if session is None:
            raise exceptions.AuthenticationFailed(REFRESH_INVALID, code="token_not_valid")
        reused = not _blacklist_once(token[api_settings.JTI_CLAIM])
        if reused:
            session_end(session=session, reason=TOKEN_REUSE)
        else:
            tokens = _session_tokens(user=user, session=session, last_seen_at=timezone.now())
    bind_user(user)
    # Named after the token claim: audit values under keys that mention a session are
    # redacted as secrets, and the id must stay readable.
    details = {SESSION_CLAIM: str(session_id)}
    if reused:  # refused only now: the session's end above must commit
        logger.warning("refresh_token_reuse", extra=details)
        security_event.send(sender=User, action=TOKEN_REUSE, user=user, details=details)
        raise exceptions.AuthenticationFailed(REFRESH_INVALID, code="token_not_valid")
    security_event.send(sender=User, action="token_refresh", user=user, details=details)
    return tokens


@transaction.atomic
def session_end(*, session: UserSession, reason: str) -> None:
    """End one session: its refresh token is blacklisted and its access tokens refused."""
    session = UserSession.objects.select_for_update().get(pk=session.pk)
    if session.ended_at is not None:
        return
    session.ended_at = timezone.now()
    session.end_reason = reason
    session.save(update_fields=["ended_at", "end_reason"])
    auth_cache.end_session(session.pk)
    if session.refresh_jti:
        _blacklist_once(session.refresh_jti)


def auth_logout(
    *, request: HttpRequest, user: User, current_session_id: str | None, raw_refresh: str | None
) -> None:
    """End the session of the given refresh token, or else the caller's current one."""
    if raw_refresh:
        try:
            # Simplejwt tokens are built from their encoded string.
            token = RefreshToken(raw_refresh)  # type: ignore[arg-type]
        except TokenError as exc:
            raise ValidationError({"refresh_token": [REFRESH_INVALID]}) from exc
        if str(token.get(api_settings.USER_ID_CLAIM)) != str(user.pk):
            raise ValidationError({"refresh_token": [REFRESH_NOT_YOURS]})
        session_id = token.get(SESSION_CLAIM)
        _blacklist_once(token[api_settings.JTI_CLAIM])
    else:
        session_id = current_session_id
    session = UserSession.objects.filter(pk=session_id, user=user).first() if session_id else None
    if session is not None:
        session_end(session=session, reason="logout")
    user_logged_out.send(sender=User, request=request, user=user)


def password_change(
    *,
    request: HttpRequest,
    user: User,
    current_password: str,
    new_password: str,
    current_session_id: str | None,
) -> TokenPair:
    """Change the password, revoke every token, end the other sessions, notify by e-mail.

    Every token issued before the change stops working, the caller's included; the
    caller's session continues with the fresh pair returned here.
    """
    # Checked outside the transaction: the failure axes records must survive the 400.
    if not check_password_for(request=request, user=user, password=current_password):
        raise ValidationError({"current_password": [WRONG_PASSWORD]})
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from exc
    with transaction.atomic():
        return _password_set(user=user, new_password=new_password, session_id=current_session_id)


def _password_set(*, user: User, new_password: str, session_id: str | None) -> TokenPair:
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(new_password)
    user.token_epoch += 1
    user.save()
    _revoke_everything(user=user, reason="password_changed", keep_session_id=session_id)
    # A request without a session claim has session_id None, which finds nothing.
    session = UserSession.objects.filter(pk=session_id, ended_at__isnull=True).first()  # type: ignore[misc]
    ctx = get_context()
    if session is None:
        session, tokens = session_start(user=user, ip=ctx.ip, user_agent=ctx.user_agent)
    else:
        tokens = _session_tokens(user=user, session=session)
    _notify_password_changed(user)
    return tokens


def _notify_password_changed(user: User) -> None:
    queue_email(
        template="password_changed",
        to=[user.email],
        context={
            "name": user.printed_name,
            "username": user.username,
            "changed_at": timezone.now().strftime("%Y-%m-%d %H:%M"),
            "ip": get_context().ip or "",
        },
    )


def profile_update(*, user: User, data: Mapping[str, object]) -> User:
    return user_update(actor=user, user=user, data=data, allowed=USER_EDITABLE_FIELDS)


@transaction.atomic
def lockout_notify(*, username: str, ip: str | None) -> None:
    """E-mail the owner of a locked-out username (if it exists), once per lockout.

    Two attempts failing at the same moment can both be the one that locks the pair
    out; the user row lock serialises them and the second finds the first's message.
    A lockout lasts at least the cool-off, so a notice for the same username and IP
    queued within it belongs to this lockout.
    """
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None or not user.email:
        return
    already = OutboxEmail.objects.filter(
        template="account_locked",
        created_at__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
        context__username=user.username,
        context__ip=ip or "",
    )
    if already.exists():
        return
    queue_email(
        template="account_locked",
        to=[user.email],
        context={
            "name": user.printed_name,
            "username": user.username,
            "ip": ip or "",
            "failures": settings.AXES_FAILURE_LIMIT,
            "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        },
    )
