"""The adherence report's monthly rollups and the writes that have outdated them.

A ``Rollup`` is a care team's episodes enrolled in one month, as the tally the report's
figures are computed from (``careflow.adherence.Tally``). A ``RollupChange`` row is written
by a database trigger in the same transaction as every write to those episodes or to the
rows the report reads about them (reports/migrations/0001_rollups.py), so it becomes visible
exactly when the write does. The report uses a month's rollup only while no change row of
that team and month is visible; beat's refresh recomputes the month and deletes the change
rows its snapshot saw, in one transaction (decision 0020).
"""

from __future__ import annotations

from django.db import models

from episodes.models import CareTeam


class Rollup(models.Model):
    care_team = models.ForeignKey(CareTeam, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="the first day of the enrolment month")
    tally = models.JSONField()
    episodes = models.PositiveIntegerField()
    computed_at = models.DateTimeField()
    # The digest of the code that counted it (reports.rollups.CODE_VERSION): a tally counted
    # by other code is not used, and the next refresh counts it again.
    version = models.CharField(max_length=16, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["care_team", "month"], name="rollup_team_month"),
        ]

    def __str__(self) -> str:
        return f"team {self.care_team_id} {self.month:%Y-%m}"


class RollupChange(models.Model):
    """A write to a team's episodes of one enrolment month that its rollup may not hold.

    Written only by the triggers: no foreign key, so a write pays one small insert and no
    check; the refresh deletes the rows it has rolled up.
    """

    id = models.BigAutoField(primary_key=True)
    care_team_id = models.BigIntegerField()
    month = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["care_team_id", "month"], name="rollup_change_team_month")]

    def __str__(self) -> str:
        return f"team {self.care_team_id} {self.month:%Y-%m}"
