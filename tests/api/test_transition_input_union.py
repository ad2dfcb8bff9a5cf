"""The union of the transitions' inputs takes every body a transition's own input takes.

The transition view checks the union (``AnyTransitionInputSerializer``) only for a body that
names another transition's fields or that the transition's own input refuses: for a body of
its own fields that its own input takes, the union's answer is the same (api/views/transitions).
"""

from __future__ import annotations

import pytest

from api.serializers.inputs import TRANSITION_INPUT, AnyTransitionInputSerializer
from careflow.guards import FUSION_INDICATIONS

# Values of every JSON type, and every choice any transition field offers.
CANDIDATES: list[object] = [
    None,
    True,
    False,
    0,
    1,
    7,
    -1,
    1.5,
    "",
    " ",
    "x",
    "a reason",
    "x" * 5000,
    [],
    ["x"],
    {},
    list(FUSION_INDICATIONS[:2]),
]


def _choices(serializer_class: type) -> list[object]:
    out: list[object] = []
    for field in serializer_class().fields.values():
        out += list(getattr(field, "choices", {}) or {})
    return out


ALL_CHOICES = sorted({str(c) for s in TRANSITION_INPUT.values() for c in _choices(s)})


@pytest.mark.parametrize("name", sorted(TRANSITION_INPUT))
def test_each_own_field_value_is_taken_by_the_union(name):
    own_class = TRANSITION_INPUT[name]
    union = AnyTransitionInputSerializer().fields
    for field_name in own_class().fields:
        assert field_name in union, field_name
        for value in [*CANDIDATES, *ALL_CHOICES, *FUSION_INDICATIONS]:
            own = own_class(data={field_name: value})
            own_takes = own.is_valid() or field_name not in own.errors
            if own_takes:
                theirs = AnyTransitionInputSerializer(data={field_name: value})
                assert theirs.is_valid() or field_name not in theirs.errors, (
                    name,
                    field_name,
                    value,
                    theirs.errors,
                )
