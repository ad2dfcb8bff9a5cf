"""The adherence report's reads of reminders and check-ins: two aggregates."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count

from careflow.adherence import rate
from careflow.checkin import Overall
from careflow.deadlines import Milestone
from episodes.reports import Figures, Scope
from notifications.models import Audience, CheckIn, Reminder, ReminderChannel, ReminderStatus

MILESTONES = tuple(str(m) for m in Milestone)
OUTCOMES = (ReminderStatus.SENT, ReminderStatus.FAILED, ReminderStatus.SKIPPED)
# The seed's natural history (CC-2 education): what the 6-week and 3-month answers sit beside.
NATURAL_HISTORY = "most disc herniations show reabsorption or regression by 8 weeks"


def patients_reached(scope: Scope, out: Figures) -> None:
    """Reminders to patients per channel and milestone; check-ins and answers per milestone."""
    reminders = (
        Reminder.objects.filter(episode__in=scope.cohort(), audience=Audience.PATIENT)
        .values("channel", "milestone", "status")
        .annotate(n=Count("id"))
    )
    by: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    sent: dict[str, int] = defaultdict(int)
    for row in reminders:
        by[row["channel"], row["milestone"]][row["status"]] = row["n"]
        if row["status"] == ReminderStatus.SENT:
            sent[row["milestone"]] += row["n"]
    answers: dict[str, dict[str, int]] = {m: dict.fromkeys(Overall, 0) for m in MILESTONES}
    for row in (
        CheckIn.objects.filter(episode__in=scope.cohort())
        .values("reminder__milestone", "overall")
        .annotate(n=Count("id"))
    ):
        answers.setdefault(row["reminder__milestone"], dict.fromkeys(Overall, 0))
        answers[row["reminder__milestone"]][row["overall"]] = row["n"]
    out.data["patients_reached"] = {
        "rules": [],
        "reminders": [
            {"channel": str(channel), "milestone": milestone}
            | {str(s): by[channel, milestone].get(s, 0) for s in OUTCOMES}
            for channel in ReminderChannel
            for milestone in MILESTONES
        ],
        "checkins": [
            {
                "milestone": milestone,
                "sent": sent[milestone],
                "answered": sum(answers[milestone].values()),
                "response_rate": rate(sum(answers[milestone].values()), sent[milestone]),
                "overall": {str(k): v for k, v in answers[milestone].items()},
                "better_or_resolved_share": rate(
                    answers[milestone][Overall.BETTER] + answers[milestone][Overall.RESOLVED],
                    sum(answers[milestone].values()),
                ),
            }
            for milestone in MILESTONES
        ],
        "natural_history": NATURAL_HISTORY,
    }
    problems = Reminder.objects.filter(
        episode__in=scope.cohort(),
        audience=Audience.PATIENT,
        status__in=[ReminderStatus.FAILED, ReminderStatus.SKIPPED],
    ).values_list("episode_id", flat=True)
    out.drill["reminder_problems"] = set(problems)
