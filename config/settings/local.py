"""Local development: the embedded default unless the environment says otherwise."""

from config.settings.base import *
from config.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
LOG_FORMAT = env.str("LOG_FORMAT", default="console")
LOGGING["handlers"]["default"]["formatter"] = LOG_FORMAT
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
