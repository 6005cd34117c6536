"""Settings for building the image (collectstatic, compilemessages): no secret, no service.

The static files storage is production's, so the manifest the running
container reads is the one built here (tests/core/test_deploy.py compares them).
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import STORAGES

SECRET_KEY = "image-build-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz"
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
