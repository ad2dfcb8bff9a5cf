"""The adherence report's reads of reminders and check-ins: two aggregates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Count

from careflow.adherence import Tally, rate
from careflow.checkin import Overall
from careflow.deadlines import Milestone
from episodes.reports import Figures, Scope
from notifications.models import Audience, CheckIn, Reminder, ReminderChannel, ReminderStatus

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from episodes.models import Episode

MILESTONES = tuple(str(m) for m in Milestone)
OUTCOMES = (ReminderStatus.SENT, ReminderStatus.FAILED, ReminderStatus.SKIPPED)
# The seed's natural history (CC-2 education): what the 6-week and 3-month answers sit beside.
NATURAL_HISTORY = "most disc herniations show reabsorption or regression by 8 weeks"


def reached_counts(cohort: QuerySet[Episode], out: Figures) -> None:
    """Reminders to patients and check-in answers, counted into ``out``'s tally (3 queries)."""
    for row in (
        Reminder.objects.filter(episode__in=cohort, audience=Audience.PATIENT)
        .values("channel", "milestone", "status")
        .annotate(n=Count("id"))
    ):
        out.tally.add(
            "reached.reminders", row["channel"], row["milestone"], row["status"], n=row["n"]
        )
    for row in (
        CheckIn.objects.filter(episode__in=cohort)
        .values("reminder__milestone", "overall")
        .annotate(n=Count("id"))
    ):
        out.tally.add("reached.answers", row["reminder__milestone"], row["overall"], n=row["n"])
    problems = Reminder.objects.filter(
        episode__in=cohort,
        audience=Audience.PATIENT,
        status__in=[ReminderStatus.FAILED, ReminderStatus.SKIPPED],
    ).values_list("episode_id", flat=True)
    out.drill["reminder_problems"] = set(problems)


def reached_figures(tally: Tally) -> dict[str, Any]:
    """Reminders to patients per channel and milestone; check-ins and answers per milestone."""
    reminders = tally.get("reached.reminders")
    sent = {
        m: sum(
            n
            for (_, milestone, status), n in reminders.items()
            if milestone == m and status == ReminderStatus.SENT
        )
        for m in MILESTONES
    }
    answers: dict[str, dict[str, int]] = {m: dict.fromkeys(Overall, 0) for m in MILESTONES}
    for (milestone, overall), n in tally.get("reached.answers").items():
        answers.setdefault(milestone, dict.fromkeys(Overall, 0))
        answers[milestone][overall] = answers[milestone].get(overall, 0) + n
    return {
        "rules": [],
        "reminders": [
            {"channel": str(channel), "milestone": milestone}
            | {str(s): reminders[str(channel), milestone, str(s)] for s in OUTCOMES}
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


def patients_reached(scope: Scope, out: Figures) -> None:
    """The cohort's reminders and check-ins, live: their tally, figures and drill-down."""
    reached_counts(scope.cohort(), out)
    out.data["patients_reached"] = reached_figures(out.tally)
