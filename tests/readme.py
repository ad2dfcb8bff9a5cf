"""README.md's shell blocks, read as CommonMark reads them, and which test runs each.

Every ```sh, ```bash or ```shell block of README.md is run by a test, as written, with only
its documented placeholders filled in. A block is named by the heading it sits under;
`RUNNERS` says which test file runs it, and tests/config/test_readme_shell_blocks.py fails
while README.md has a block that no runner knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

README = Path(__file__).resolve().parents[1] / "README.md"
SHELL_LANGUAGES = frozenset({"sh", "bash", "shell"})

# The heading each shell block sits under -> the test file that runs that block (through
# `shell_block(heading)`). A new block needs an entry here and a test that runs it.
RUNNERS = {
    "Two commands": "tests/config/test_readme_shell_blocks.py",
    "FHIR": "tests/interop/test_fhir_auth.py",
    "Running the pieces separately": "tests/config/test_readme_shell_blocks.py",
}


@dataclass(frozen=True)
class ShellBlock:
    heading: str  # the nearest heading above the block, of any level
    line: int  # README.md's line of the opening fence, 1-based
    text: str


def shell_blocks() -> list[ShellBlock]:
    """Every fenced shell block of README.md, list items' too, in the order they appear."""
    tokens = MarkdownIt("commonmark").parse(README.read_text())
    heading = ""
    blocks = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            heading = tokens[index + 1].content
        elif token.type == "fence" and (token.info.split() or [""])[0] in SHELL_LANGUAGES:
            blocks.append(ShellBlock(heading=heading, line=token.map[0] + 1, text=token.content))
    return blocks


def shell_block(heading: str) -> str:
    """The one shell block under this heading (a runner's own block)."""
    if heading not in RUNNERS:
        msg = f"no runner is registered for README's shell block under {heading!r}"
        raise LookupError(msg)
    found = [block.text for block in shell_blocks() if block.heading == heading]
    if len(found) != 1:
        msg = f"README.md has {len(found)} shell blocks under {heading!r}, its runner runs one"
        raise LookupError(msg)
    return found[0]
