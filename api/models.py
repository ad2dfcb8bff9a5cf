"""The web layer's own rows: the access audit, the ``Idempotency-Key`` answers, sign-in identities.

Their tables keep the names they were created with, ``episodes_accessrecord`` and
``episodes_idempotentrequest``: the models moved here from ``episodes`` by state-only
migrations (episodes 0017, api 0001), so no row was copied.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models


class AccessRecord(models.Model):
    """Who read or changed which patient's record, when, from where: written for every such request.

    Users who touched a record are deactivated, never deleted (``PROTECT`` here and on
    every ``*_by`` column); the username is also kept as it was at the time.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    username = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=5)  # read, write
    method = models.CharField(max_length=7)
    path = models.CharField(max_length=300)
    status_code = models.PositiveSmallIntegerField()
    patient_id = models.BigIntegerField(null=True, blank=True)
    episode_id = models.BigIntegerField(null=True, blank=True)
    # Where the request came from: the client's address (infra.client.client_ip).
    address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        # Partitioned by month of ``at`` in PostgreSQL, primary key (id, at); partitions
        # are made and aged out by beat (api/partitions.py). ``id`` still names one record.
        db_table = "episodes_accessrecord"
        ordering: ClassVar = ["-at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["patient_id", "at"], name="access_by_patient"),
            models.Index(fields=["user", "at"], name="access_by_user"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.path} by user #{self.user_id} ({self.status_code})"


class IdempotentRequest(models.Model):
    """A POST made with an ``Idempotency-Key``: its fingerprint and, once done, its answer.

    Written by ``api.idempotency.IdempotencyMiddleware``; a repeat of the same key
    and request gets the stored answer instead of running again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    created_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # null: running
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True)

    class Meta:
        db_table = "episodes_idempotentrequest"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "key"], name="one_request_per_user_key"),
        ]

    def __str__(self) -> str:
        return f"idempotent request #{self.pk} ({self.status_code})"


class SignInIdentity(models.Model):
    """A user of the organisation's OpenID provider: its (issuer, ``sub``), stable for life.

    Single sign-on (``api.sso``) finds users by this pair only, never by email (an address
    can be given to someone else). The last sign-in's ``amr`` (how the provider
    authenticated them, RFC 8176) is kept as the record of their second factor.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_in_identity"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    last_amr = models.JSONField(default=list, blank=True)
    # Deactivated by a sign-in that mapped to no care team, not by an administrator: a later
    # sign-in with a mapped group makes the user active again; an administrator's stays.
    deactivated_by_provider = models.BooleanField(default=False)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
