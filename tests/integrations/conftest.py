"""Django settings for the integration tests, and a real Redis server for the shared replay guard.

Django is configured once, here, with the smallest settings the tests need: the URLs of
:mod:`tests.integrations.django_urls`, CSRF middleware (to prove the decorator exempts the view), a
local-memory default cache, and a database cache on a SQLite file in a temporary folder.

The ``redis_url`` fixture starts ``redis-server`` on a free port of 127.0.0.1, without persistence,
and stops it at the end of the session. Without the binary the Redis tests are skipped on a
developer's machine, but FAIL when the ``CI`` environment variable is set: CI must run them.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import django  # type: ignore[import-untyped]
import pytest
import redis
from django.conf import settings  # type: ignore[import-untyped]

_DB_DIR = tempfile.mkdtemp(prefix="examkit-django-")
atexit.register(shutil.rmtree, _DB_DIR, ignore_errors=True)

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="examkit-tests-only",
        ALLOWED_HOSTS=["testserver", "internal", "hooks.example.com", "example.com"],
        ROOT_URLCONF="tests.integrations.django_urls",
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        INSTALLED_APPS=[],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(Path(_DB_DIR) / "db.sqlite3"),
            }
        },
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "db": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "examkit_cache",
            },
        },
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ping(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _wait_for_ping(client: redis.Redis, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        if _ping(client):
            return True
        time.sleep(0.05)
    return False


def _start_redis(binary: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    last_error = ""
    for _ in range(3):  # another process may grab the free port in between
        port = _free_port()
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        try:
            if _wait_for_ping(client, process):
                return process, port
        finally:
            client.close()
        process.kill()
        output, _ = process.communicate(timeout=10)
        last_error = output.decode(errors="replace")[-2000:]
    pytest.fail(f"redis-server did not start:\n{last_error}")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a fresh, private Redis server for this test session."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed; .ci/run installs it: it must run in CI")
        pytest.skip("redis-server is not installed (in CI this fails instead)")
    process, port = _start_redis(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=10)
