"""A tally's histograms give the medians and percentiles of the values they count, exactly."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from careflow.adherence import Tally, percentile, percentile_of_counts

values = st.lists(
    st.integers(-400, 400) | st.floats(0, 5000, allow_nan=False).map(lambda v: round(v, 2))
)


@given(values, st.sampled_from([0, 10, 50, 90, 100]))
def test_a_histogram_has_the_percentile_of_its_values(observed, pct):
    assert percentile_of_counts(Counter(observed), pct) == percentile(observed, pct)


@given(values, values)
def test_two_tallies_added_are_the_tally_of_both(left, right):
    one, two, both = Tally(), Tally(), Tally()
    for tally, observed in ((one, left), (two, right), (both, left + right)):
        for value in observed:
            tally.add("hours", value)
    one.merge(two)
    assert one.get("hours") == both.get("hours")
    assert percentile_of_counts({k[0]: n for k, n in one.get("hours").items()}, 90) == percentile(
        left + right, 90
    )


@given(values)
def test_a_tally_read_back_from_json_is_the_same(observed):
    tally = Tally()
    for value in observed:
        tally.add("days", "REF-1", value)
    tally.add("open_due", "REF-2", "America/New_York", "2026-01-31", n=3)
    tally.add("ruled_out_by", None)
    tally.add("month", "2026-01", True)  # noqa: FBT003 - a key, not a flag
    back = Tally.from_json(json.loads(json.dumps(tally.to_json())))
    assert back.counts == {name: +counts for name, counts in tally.counts.items() if +counts}
    assert json.dumps(back.to_json()) == json.dumps(tally.to_json())


def test_negative_flow_changes_add_up():
    tally = Tally()
    tally.add("flow.change", "2026-01-05", "esi", n=1)
    tally.merge(Tally({"flow.change": Counter({("2026-01-05", "esi"): -1})}))
    assert tally.get("flow.change")[("2026-01-05", "esi")] == 0
