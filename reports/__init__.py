"""The adherence report: episodes' and notifications' figures, one report."""
