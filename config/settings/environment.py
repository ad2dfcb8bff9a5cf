"""Where settings come from: the environment (django-environ), and the project's folders."""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime state (the embedded PostgreSQL, private Redis, mail files, static files); gitignored.
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
