"""Reading a workspace page as a person would: its error summary, its inputs, its options."""

from __future__ import annotations

from html.parser import HTMLParser


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.summary: list[tuple[str, str]] = []  # (href, words) of each summary link
        self.inputs: list[dict[str, str]] = []  # every input, select and textarea's attributes
        self.options: list[dict[str, str]] = []  # every option's attributes (and "group")
        self._summary_depth = 0
        self._depth = 0
        self._link: str | None = None
        self._words: list[str] = []
        self._group = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self._depth += 1
        if "nhsuk-error-summary" in found.get("class", "").split():
            self._summary_depth = self._depth
        if tag == "a" and self._summary_depth:
            self._link, self._words = found.get("href", ""), []
        if tag in {"input", "select", "textarea"}:
            self.inputs.append({"tag": tag, **found})
        if tag == "optgroup":
            self._group = found.get("label", "")
        if tag == "option":
            self.options.append({**found, "group": self._group})
        if tag in {"input", "meta", "link", "br"}:
            self._depth -= 1  # void elements have no end tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            self.summary.append((self._link, " ".join("".join(self._words).split())))
            self._link = None
        if tag == "optgroup":
            self._group = ""
        if self._summary_depth == self._depth:
            self._summary_depth = 0
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._words.append(data)


def read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page
