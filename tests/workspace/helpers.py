"""What the workspace's page tests share: a signed-in client, a page read as a person reads it.

Its words, a section of it, its error summary, inputs and options; and an episode in review.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from django.test import Client

from episodes import services
from episodes.models import Episode
from tests.clock import ONSET, at_day
from tests.factories import episode_for

SIZES = {
    "laptop": {"width": 1366, "height": 768},
    "tablet": {"width": 768, "height": 1024},
    "phone": {"width": 390, "height": 844},
}
GIVEN_NAMES = ("Ana", "Ben", "Cleo", "Dev", "Elif", "Femi", "Gus", "Hana", "Ines", "Jon")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    """The page's HTML with its entities read (``&#x27;`` is ``'``)."""
    return unescape(response.content.decode())


def words(response) -> str:
    """What a reader sees: the page without its tags, scripts and attributes, spaces folded."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def section(html: str, element_id: str) -> str:
    """The element with ``id`` (the whole of it: its tag's nested opens and closes counted)."""
    start = html.rindex("<", 0, html.index(f'id="{element_id}"'))
    tag = re.match(r"<(\w+)", html[start:]).group(1)
    depth = 0
    for found in re.finditer(rf"<(/?){tag}\b", html[start:]):
        depth += -1 if found.group(1) else 1
        if depth == 0:
            return html[start : start + found.end()]
    return html[start:]


def in_surgical_review(episode, coordinator, clinician) -> Episode:
    """Cauda equina on day 5, the immediate referral, an MRI that agrees, the review begun.

    URG-1 waives the elective gates; SX-3 is met by the study. ``plan_surgery`` is next.
    """
    with at_day(5):
        services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator)
        services.episode_transition(
            episode_id=episode.pk,
            name="refer_to_specialist",
            by=coordinator,
            data={"urgency": "immediate"},
        )
        services.imaging_record(
            episode_id=episode.pk,
            by=clinician,
            performed_on=ONSET,
            nerve_root_compression=True,
            clinically_correlated=True,
        )
        services.episode_transition(
            episode_id=episode.pk, name="begin_surgical_review", by=clinician
        )
    return Episode.objects.get(pk=episode.pk)


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


def routine_episodes(team, by, n: int) -> list[Episode]:
    """``n`` episodes of conservative care, 10 to 10 + n days in, no red flag, by the services."""
    names = GIVEN_NAMES
    return [
        episode_for(team, by, days=10 + i, given_name=names[i % len(names)], radicular_pain=True)
        for i in range(n)
    ]
