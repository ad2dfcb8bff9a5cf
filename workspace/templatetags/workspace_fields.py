"""``{% fields list %}``: a form's fields (workspace/forms.py's ``Field``) drawn by Jinja2.

The markup is ``workspace/jinja2/workspace/partials/fields.html``, one loop over the list.
Django's engine drew the same markup by an ``{% include %}`` a field: the episode page's 38
fields were about 40 % of its template time, and Jinja2 draws them at a fraction of that
(docs/decisions/0011-queue-rows-in-jinja2.md gives the same measure for the queue rows).
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from workspace.forms import Field

register = template.Library()

FIELDS_TEMPLATE = "workspace/partials/fields.html"


@register.simple_tag
def fields(items: Iterable[Field], *, radio_hints: bool = False) -> SafeString:
    """The fields in order; ``radio_hints``: a radio group's hint also above its fieldset."""
    words = {"error": _("Error:"), "optional": _("(optional)"), "choose": _("Choose…")}
    html = get_template(FIELDS_TEMPLATE, using="jinja2").render(
        {"fields": items, "words": words, "radio_hints": radio_hints}
    )
    return mark_safe(html)  # noqa: S308 - escaped by Jinja2's autoescape
