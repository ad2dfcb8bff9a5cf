"""Start-up behaviour of each settings module, checked in fresh interpreters."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from django.conf import settings

TIMEOUT_SECONDS = 60
PRINT_DATABASE = (
    "import django; django.setup(); from django.conf import settings; "
    "db = settings.DATABASES['default']; print(db['ENGINE']); print(db['NAME'])"
)


def _run(args: list[str], **env_changes: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _run(
        ["-c", "import django; django.setup()"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=None,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_passes_the_deployment_checklist_with_a_secret_key():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="careflow.example.org",
        DJANGO_DEBUG=None,
        DJANGO_SECURE_SSL_REDIRECT=None,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_local_database_defaults_to_the_embedded_postgresql_in_var():
    result = _run(
        ["-c", PRINT_DATABASE], DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL=None
    )

    assert result.returncode == 0, result.stderr
    engine, name = result.stdout.split()
    assert (engine, name) == ("django.db.backends.postgresql", "careflow")
    socket = _run(
        ["-c", PRINT_DATABASE.replace("print(db['NAME'])", "print(db['OPTIONS']['host'])")],
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=None,
    )
    assert socket.stdout.split()[1] == str(settings.BASE_DIR / "var" / "postgres")


def test_a_database_url_that_is_not_postgresql_stops_start_up():
    result = _run(
        ["-c", PRINT_DATABASE],
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL="sqlite:///var/careflow.sqlite3",
    )

    assert result.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL database" in result.stderr


def test_manage_py_defaults_to_local_settings():
    result = _run(
        ["manage.py", "diffsettings", "--all"],
        DJANGO_SETTINGS_MODULE=None,
        DATABASE_URL=None,
    )

    assert result.returncode == 0, result.stderr
    assert "DEBUG = True" in result.stdout
