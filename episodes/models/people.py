"""Care teams and their members, patients: who is cared for, by whom, reached how."""

from __future__ import annotations

from functools import cache
from typing import ClassVar
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

# In the system's zone files but not time zones a person lives in: the host's own zone
# ("localtime"), tzdata's placeholder ("Factory"), and the duplicate trees.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})
_NOT_ZONE_PREFIXES = ("posix/", "right/", "SystemV/")


@cache
def iana_zones() -> frozenset[str]:
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_ZONES and not name.startswith(_NOT_ZONE_PREFIXES)
    )


def validate_timezone(value: str) -> None:
    if value not in iana_zones():
        msg = f"{value!r} is not an IANA time zone name (e.g. America/New_York)."
        raise ValidationError(msg)


class Role(models.TextChoices):
    COORDINATOR = "coordinator"
    CLINICIAN = "clinician"


def install_timezone() -> str:
    """The install's ``TIME_ZONE``: a care team's zone until an administrator sets another."""
    return settings.TIME_ZONE


class CareTeam(models.Model):
    name = models.CharField(max_length=120, unique=True)
    email = models.EmailField(blank=True, help_text="Where red-flag alerts and notices go.")
    timezone = models.CharField(
        max_length=64,
        validators=[validate_timezone],
        default=install_timezone,
        help_text="Where the team works: the time zone a patient enrolled in the workspace "
        "gets unless the coordinator chooses another (an IANA name, e.g. America/New_York).",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CareTeamMembership", related_name="care_teams"
    )

    def __str__(self) -> str:
        return self.name


class CareTeamMembership(models.Model):
    team = models.ForeignKey(CareTeam, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    # A team lead manages the team's members in the workspace (teams/): invites, the
    # clinician role, deactivation. Appointed by a superuser (the admin or
    # `manage.py team_lead`), never by a lead.
    is_lead = models.BooleanField(default=False)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.team}"


class Channel(models.TextChoices):
    """How reminders reach someone: the one enumeration (notifications' too).

    A value names a channel of ``CAREFLOW_CHANNELS`` (notifications/channels/); the
    columns holding one are ``CHANNEL_MAX_LENGTH`` long, enough for real names.
    """

    EMAIL = "email"
    SMS = "sms"


CHANNEL_MAX_LENGTH = 32


class Language(models.TextChoices):
    EN = "en", "English"
    ES = "es", "Spanish"


class Gender(models.TextChoices):
    """HL7's administrative gender (the FHIR value set), as recorded; blank: not given."""

    MALE = "male", "Male"
    FEMALE = "female", "Female"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    care_team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="patients")
    # The record number the referring system knows the patient by (FHIR Patient.identifier:
    # its system URI and value), unique within a care team, so that a retried enrolment
    # finds the patient it made instead of making a second. Blank when none was given.
    identifier_system = models.CharField(max_length=255, blank=True, default="")
    identifier_value = models.CharField(max_length=64, blank=True, default="")
    gender = models.CharField(max_length=7, choices=Gender.choices, blank=True, default="")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +15551230000")
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    preferred_channel = models.CharField(
        max_length=CHANNEL_MAX_LENGTH, choices=Channel.choices, default=Channel.EMAIL
    )
    sms_consent = models.BooleanField(default=False)
    opted_out = models.BooleanField(
        default=False, help_text="The patient asked to receive no reminders."
    )
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes: ClassVar = [
            # An inbound SMS finds the patients with its number (notifications' providers).
            models.Index(fields=["phone"], name="patient_phone", condition=~models.Q(phone="")),
            # Finding a patient by date of birth within a team (episodes.selectors.search);
            # by name: the trigram index the migration creates (patient_name_trigram).
            models.Index(fields=["care_team", "birth_date"], name="patient_team_birth_date"),
            # A team's patients changed since a moment, or newest first (the FHIR facade's
            # _lastUpdated and _sort): at 100k, 59 ms scanning the team's 10,000 without it,
            # 0.2 ms with it.
            models.Index(fields=["care_team", "updated_at", "id"], name="patient_team_updated"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["care_team", "identifier_system", "identifier_value"],
                condition=~models.Q(identifier_value=""),
                name="patient_team_identifier",
                violation_error_message="A patient of this care team has this identifier.",
            )
        ]

    def __str__(self) -> str:
        # Admin and logs show the id, not the name: patient details stay out of logs.
        return f"Patient #{self.pk}"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"
