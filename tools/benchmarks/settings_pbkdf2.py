"""Production settings with PBKDF2 as the preferred hasher, for ``make bench`` only.

Measures sign-ins as they cost before argon2id: with PBKDF2 preferred, a PBKDF2 hash is
not rehashed at sign-in, so every request pays for PBKDF2. Never a way to run the service.
"""

from config.settings.production import *  # noqa: F403

PASSWORD_HASHERS = [
    "accounts.hashers.PBKDF2PasswordHasher",
    "accounts.hashers.Argon2idPasswordHasher",
]
