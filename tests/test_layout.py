"""No module under tests/ imports from a test module (a ``test_*.py`` or a ``conftest.py``).

What tests share lives in modules that are not test modules: data in tests/factories.py,
the calendar in tests/clock.py, API clients in tests/clients.py, a package's own helpers in
its helpers.py. Fixtures stay in conftest files, where pytest finds them by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def is_test_module(module: str) -> bool:
    """``tests.api.conftest`` or ``tests.api.test_queues_api``: pytest's, not for importing."""
    parts = module.split(".")
    return parts[0] == "tests" and (parts[-1] == "conftest" or parts[-1].startswith("test_"))


def imported_modules(source: str, module: str) -> list[tuple[int, str]]:
    """(line, module) for every import in ``source``, the module ``module`` (its dotted name).

    ``from package import name`` yields ``package.name`` too: the name may be a module.
    """
    package = module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return sorted(found)


def imports_of_test_modules(source: str, module: str) -> list[str]:
    return [
        f"{module}:{line} imports {target}"
        for line, target in imported_modules(source, module)
        if is_test_module(target)
    ]


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)


def test_no_module_under_tests_imports_a_test_module():
    paths = sorted(TESTS.rglob("*.py"))
    assert len(paths) > 100, "tests/ was not found where this file sits"
    bad = [
        found
        for path in paths
        for found in imports_of_test_modules(path.read_text(), module_name(path))
    ]
    assert bad == []


def test_an_import_from_a_test_module_or_a_conftest_is_found():
    source = """\
from tests.clock import at_day
from tests.factories import new_episode
from tests.api.test_queues_api import QUEUE_NAMES
def f():
    from tests.notifications.conftest import enroll
import tests.api.conftest
from tests.checkin import test_checkin_browser
from .conftest import twilio
"""
    assert imports_of_test_modules(source, "tests.notifications.test_x") == [
        "tests.notifications.test_x:3 imports tests.api.test_queues_api",
        "tests.notifications.test_x:5 imports tests.notifications.conftest",
        "tests.notifications.test_x:6 imports tests.api.conftest",
        "tests.notifications.test_x:7 imports tests.checkin.test_checkin_browser",
        "tests.notifications.test_x:8 imports tests.notifications.conftest",
    ]
