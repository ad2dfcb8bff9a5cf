"""`manage.py seed_demo`: demo data for `make run`. Idempotent: run it as often as you like.

Each kind of data has its own small function called from `handle`: users, the care team,
and a handful of patients whose episodes are spread over the pathway. Everything goes
through the services, so the demo episodes carry real logs, red flags and reminders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from episodes import services
from episodes.models import CareTeam, CareTeamMembership, Episode, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DEMO_PASSWORD = "careflow-demo"  # noqa: S105 - a published demo login, local data only


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    is_staff: bool = False


DEMO_USERS = (
    DemoUser("coordinator", "Casey", "Coordinator"),
    DemoUser("clinician", "Robin", "Clinician"),
)


def seed_users() -> dict[str, User]:
    """Create or reset the demo users (password included, so the printed logins work)."""
    user_model = get_user_model()
    users = {}
    for demo in DEMO_USERS:
        user, _ = user_model.objects.update_or_create(
            username=demo.username,
            defaults={
                "first_name": demo.first_name,
                "last_name": demo.last_name,
                "email": f"{demo.username}@example.org",
                "is_staff": demo.is_staff,
                "is_active": True,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        users[demo.username] = user
    return users


DEMO_TEAM = "Demo spine team"
ROLES = {"coordinator": Role.COORDINATOR, "clinician": Role.CLINICIAN}


def seed_team(users: dict[str, User]) -> CareTeam:
    team, _ = CareTeam.objects.get_or_create(
        name=DEMO_TEAM, defaults={"email": "spine-team@example.org"}
    )
    for username, user in users.items():
        CareTeamMembership.objects.update_or_create(
            team=team, user=user, defaults={"role": ROLES[username]}
        )
    return team


@dataclass(frozen=True)
class DemoEpisode:
    """A fictional patient and where their episode stands on the pathway."""

    given_name: str
    family_name: str
    birth_date: date
    onset_days_ago: int
    facts: dict[str, bool] = field(default_factory=dict)
    red_flag: str = ""
    steps: tuple[tuple[str, dict[str, Any]], ...] = ()
    imaging: bool = False


_READY = {
    "radicular_pain": True,
    "conservative_therapy_failed": True,
    "candidate_for_esi": True,
    "candidate_for_surgery": True,
    "function_significantly_limited": True,
    "biopsychosocial_assessment_done": True,
}
_ESI = {"guidance": "fluoroscopic", "approach": "transforaminal", "patient_consented": True}

DEMO_EPISODES = (
    DemoEpisode("Ana", "Demo-Ruiz", date(1984, 4, 2), 9, {"radicular_pain": True}),
    DemoEpisode("Ben", "Demo-Okafor", date(1990, 7, 15), 20, {"disabling_pain": True}),
    DemoEpisode("Chloe", "Demo-Martin", date(1979, 1, 30), 47, _READY),
    DemoEpisode(
        "Dev",
        "Demo-Patel",
        date(1988, 11, 5),
        60,
        _READY,
        steps=(("confirm_imaging_eligibility", {}),),
    ),
    DemoEpisode(
        "Eva",
        "Demo-Novak",
        date(1975, 3, 12),
        70,
        _READY,
        steps=(("confirm_imaging_eligibility", {}), ("schedule_esi", _ESI)),
    ),
    DemoEpisode("Femi", "Demo-Adeyemi", date(1982, 9, 9), 4, {}, red_flag="saddle_anesthesia"),
    DemoEpisode(
        "Grace",
        "Demo-Lindqvist",
        date(1970, 6, 21),
        95,
        _READY,
        steps=(("refer_to_specialist", {}), ("begin_surgical_review", {})),
        imaging=True,
    ),
    DemoEpisode(
        "Hugo",
        "Demo-Silva",
        date(1993, 2, 2),
        120,
        {"radicular_pain": True},
        steps=(("resolve", {"note": "pain-free at follow-up"}),),
    ),
)


def seed_episodes(team: CareTeam, users: dict[str, User]) -> int:
    """Create the demo patients and episodes once; later runs leave them as they are."""
    if Episode.objects.filter(care_team=team).exists():
        return 0
    today = timezone.localdate()
    coordinator, clinician = users["coordinator"], users["clinician"]
    for demo in DEMO_EPISODES:
        patient = services.patient_create(
            care_team=team,
            given_name=demo.given_name,
            family_name=demo.family_name,
            birth_date=demo.birth_date,
            email=f"{demo.given_name.lower()}@example.org",
            timezone="America/New_York",
        )
        onset = today - timedelta(days=demo.onset_days_ago)
        episode = services.episode_create(
            patient=patient,
            by=coordinator,
            symptom_onset=onset,
            conservative_care_start=onset,
            **demo.facts,
        )
        if demo.red_flag:
            services.red_flag_raise(episode_id=episode.pk, sign=demo.red_flag, by=coordinator)
        if demo.imaging:
            services.imaging_record(
                episode_id=episode.pk,
                by=clinician,
                performed_on=today - timedelta(days=3),
                nerve_root_compression=True,
                level="L5-S1",
                clinically_correlated=True,
            )
        for name, body in demo.steps:
            services.episode_transition(episode_id=episode.pk, name=name, by=clinician, data=body)
    return len(DEMO_EPISODES)


class Command(BaseCommand):
    help = "Create the demo users, care team, patients and episodes (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        with transaction.atomic():
            users = seed_users()
            team = seed_team(users)
            created = seed_episodes(team, users)
        self.stdout.write(f"Demo care team: {team.name} ({created} new demo episodes)")
        self.stdout.write("Demo logins (username / password):")
        for username in users:
            self.stdout.write(f"  {username} / {DEMO_PASSWORD}")
