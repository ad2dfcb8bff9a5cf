"""Careflow's guideline as code: pure, typed functions of facts and dates (no ORM, no I/O)."""
