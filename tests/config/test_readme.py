"""README.md is the front door: every environment variable the settings read is listed."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings


def test_every_environment_variable_is_in_the_readme():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    code = "".join(
        p.read_text() for p in (Path(settings.BASE_DIR) / "config/settings").glob("*.py")
    )
    names = set(re.findall(r'env(?:\.[a-z]+)?\(\s*"([A-Z_]+)"', code))
    assert names, "the settings read no variable: the pattern is stale"
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert missing == []


def test_readme_shows_the_two_commands():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert "make run" in readme
    assert "make test" in readme
