"""factory-boy factories: one per model the tests build."""

from __future__ import annotations

from datetime import date

import factory
from django.contrib.auth import get_user_model

from episodes.models import CareTeam, CareTeamMembership, Patient, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw-for-tests")


class CareTeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareTeam
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    email = factory.LazyAttribute(lambda t: f"{t.name.lower().replace(' ', '-')}@example.org")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareTeamMembership

    team = factory.SubFactory(CareTeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.COORDINATOR


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    care_team = factory.SubFactory(CareTeamFactory)
    given_name = "Ana"
    family_name = factory.Sequence(lambda n: f"Ruiz{n}")
    birth_date = date(1980, 4, 2)
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    phone = "+15551230000"
    timezone = "America/New_York"
    preferred_channel = "email"
    sms_consent = False
    language = "en"
