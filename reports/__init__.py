"""The adherence report (issue 17): episodes' and notifications' figures, one report."""
