"""The apps' layers, checked and drawn: ``python scripts/layers.py check|svg PATH|edges``.

Dependencies point one way (STYLE.md). Lowest first, a module may import its own
layer and the layers below it, never one above:

    careflow       the guideline: pure rules, standard library only (no Django, no I/O)
    infra          Django-aware infrastructure: client address, cache, admin site, login
    episodes       the clinical record, its state machine, services and selectors
    notifications  reminders, channels, check-ins, provider webhooks
    api            the HTTP API, its token check, idempotency and access audit
    web            workspace, interop, reports (the pages, FHIR, the reports), which use
                   the API's serializers, parsers, audit and OpenAPI helpers
    config         settings, URLs, Celery: wires everything

Product code never imports ``bench`` or ``tests`` (they sit above everything). Every
import counts: module-level, function-local and ``TYPE_CHECKING`` alike. ``check`` (run
by ``make lint``) prints each back-edge and exits 1; ``svg`` draws the components and
their edges (``make deps``); ``edges`` lists them as text.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (layer, the packages in it), lowest first.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("careflow", ("careflow",)),
    ("infra", ("infra",)),
    ("episodes", ("episodes",)),
    ("notifications", ("notifications",)),
    ("api", ("api",)),
    ("web", ("workspace", "interop", "reports")),
    ("config", ("config",)),
]
OUTSIDE_PRODUCT = ("bench", "tests")
# careflow's one Django module: its AppConfig (careflow is installed for its templates).
PURE_EXCEPTIONS = {"careflow.apps"}
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def component(module: str) -> str | None:
    """The longest package of LAYERS (or bench/tests) that ``module`` is in."""
    best = None
    for _, packages in LAYERS:
        for package in packages:
            if (module == package or module.startswith(package + ".")) and (
                best is None or len(package) > len(best)
            ):
                best = package
    top = module.split(".", maxsplit=1)[0]
    if best is None and top in OUTSIDE_PRODUCT:
        return top
    return best


def layer_index(package: str) -> int:
    for index, (_, packages) in enumerate(LAYERS):
        if package in packages:
            return index
    return len(LAYERS)  # bench, tests: above everything


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return found


def product_files() -> list[Path]:
    files = []
    for _, packages in LAYERS:
        for package in packages:
            if "." not in package:
                files.extend(sorted((ROOT / package).rglob("*.py")))
    return files


def edges() -> tuple[Counter[tuple[str, str]], list[str]]:
    """Counted edges between components, and every violation as ``path:line: message``."""
    counted: Counter[tuple[str, str]] = Counter()
    problems: list[str] = []
    for path in product_files():
        source = module_name(path)
        here = component(source)
        if here is None:
            continue
        seen: set[tuple[int, str]] = set()
        for line, target in imports_of(path):
            there = component(target)
            where = f"{path.relative_to(ROOT)}:{line}"
            if here == "careflow" and source not in PURE_EXCEPTIONS and there != "careflow":
                top = target.split(".")[0]
                if top not in STDLIB and (line, top) not in seen:
                    seen.add((line, top))
                    problems.append(f"{where}: careflow is pure, it imports {target}")
                    continue
            if there is None or there == here:
                continue
            if (line, there) in seen:
                continue
            seen.add((line, there))
            counted[here, there] += 1
            if layer_index(there) > layer_index(here):
                problems.append(
                    f"{where}: {source} ({LAYERS[layer_index(here)][0]}) imports {target} "
                    f"({there}, a higher layer)"
                )
    return counted, problems


def svg(counted: Counter[tuple[str, str]]) -> str:
    """Components in rows by layer (lowest at the bottom), an arrow per importing edge."""
    box_w, box_h, gap_x, gap_y, margin = 150, 36, 40, 70, 30
    rows = [packages for _, packages in reversed(LAYERS)]
    left = margin + 140 + box_w  # room for the edges that bow out to the left
    width = left + margin + max(len(r) for r in rows) * (box_w + gap_x)
    height = margin * 2 + len(rows) * (box_h + gap_y)
    centre: dict[str, tuple[float, float]] = {}
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            'font-family="sans-serif" font-size="13">'
        ),
        (
            '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
            "</marker></defs>"
        ),
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    for row_index, packages in enumerate(rows):
        y = margin + row_index * (box_h + gap_y)
        name = LAYERS[len(LAYERS) - 1 - row_index][0]
        out.append(f'<text x="{margin}" y="{y + box_h / 2 + 4}" fill="#777">{name}</text>')
        for column, package in enumerate(packages):
            x = left + column * (box_w + gap_x)
            centre[package] = (x + box_w / 2, y + box_h / 2)
            out.append(
                f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" '
                'fill="#eef3fb" stroke="#4a6fa5"/>'
                f'<text x="{x + box_w / 2}" y="{y + box_h / 2 + 4}" '
                f'text-anchor="middle">{package}</text>'
            )
    for (source, target), count in sorted(counted.items()):
        if source not in centre or target not in centre:
            continue
        (x1, y1), (x2, y2) = centre[source], centre[target]
        colour = "#b00" if layer_index(target) > layer_index(source) else "#555"
        title = f"<title>{source} imports {target} ({count} imports)</title>"
        if y1 == y2:  # a sibling in the same row: straight, edge to edge
            dx = box_w / 2 if x2 > x1 else -box_w / 2
            out.append(
                f'<line x1="{x1 + dx}" y1="{y1}" x2="{x2 - dx}" y2="{y2}" stroke="{colour}" '
                f'marker-end="url(#a)">{title}</line>'
            )
            continue
        # Down from the importer's bottom to the imported's top; an edge that skips rows
        # bows out to the left so it does not run through the boxes between.
        start, end = (x1, y1 + box_h / 2), (x2, y2 - box_h / 2)
        rows_skipped = round(abs(y2 - y1) / (box_h + gap_y)) - 1
        bow = 2 * (box_w / 2 + 25) * rows_skipped / max(rows_skipped, 1)
        control = (min(x1, x2) - bow, (start[1] + end[1]) / 2)
        out.append(
            f'<path d="M{start[0]},{start[1]} Q{control[0]},{control[1]} {end[0]},{end[1]}" '
            f'fill="none" stroke="{colour}" marker-end="url(#a)">{title}</path>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    counted, problems = edges()
    if command == "check":
        for problem in problems:
            sys.stderr.write(problem + "\n")
        if problems:
            sys.stderr.write(f"layers: {len(problems)} import(s) against the layers\n")
            return 1
        sys.stdout.write(f"layers: {sum(counted.values())} cross-component imports, one way\n")
        return 0
    if command == "edges":
        for (source, target), count in sorted(counted.items()):
            sys.stdout.write(f"{source} -> {target} ({count})\n")
        return 0
    if command == "svg" and len(argv) == 2:  # noqa: PLR2004 - svg PATH
        Path(argv[1]).write_text(svg(counted), encoding="utf-8")
        sys.stdout.write(f"wrote {argv[1]}\n")
        return 0
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
