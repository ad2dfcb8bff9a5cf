"""careflow imports only the standard library (and itself): the guideline is tested without Django.

``make lint`` runs it beside import-linter's layers contract (pyproject.toml), which says who
may import careflow but not what careflow may import. Every import counts, function-local
ones too; ``careflow/apps.py`` is its one Django module (careflow is an installed app).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CAREFLOW = Path(__file__).resolve().parent.parent / "careflow"
ALLOWED = set(sys.stdlib_module_names) | {"__future__", "careflow"}


def outside(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] not in ALLOWED]
    return found


def main() -> int:
    problems = [p for path in sorted(CAREFLOW.rglob("*.py")) if path.name != "apps.py"
                for p in outside(path)]  # fmt: skip
    for problem in problems:
        sys.stderr.write(f"careflow imports beyond the standard library: {problem}\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
