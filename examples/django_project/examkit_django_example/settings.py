"""Settings of the example project: the smallest Django setup that serves the four webhook URLs.

``EXAMKIT_DEMO_SECRETS`` (on unless the environment variable ``EXAMKIT_EXAMPLE_SECRETS=env``) makes the
views use the demo credentials of :mod:`examkit_django_example.verifiers`; off, they read the real
ones from the ``EXAMKIT_*`` environment variables.
"""

from __future__ import annotations

import os

DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "examkit-example-only-not-secret")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "examkit_django_example.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # the webhook views are exempted by verified_webhook
]
# The replay guard shares seen nonces through this cache: use Redis or Memcached with several workers.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
EXAMKIT_DEMO_SECRETS = os.environ.get("EXAMKIT_EXAMPLE_SECRETS") != "env"
