"""The versions the facade keeps: each Patient and EpisodeOfCare as it was (vread, history)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class ResourceVersion(models.Model):
    """One version of a Patient or an EpisodeOfCare: the resource as it was served.

    Written when the row changes (``interop.history``): by the write, in its transaction,
    or by the first read that finds the row changed by a write that tells no one (a
    patient's STOP by SMS). ``number`` is the resource's ``meta.versionId`` and its ETag;
    ``digest`` (of the content and ``meta.lastUpdated``) tells whether a rendering is this
    version.
    """

    resource_type = models.CharField(max_length=20)
    resource_id = models.BigIntegerField()
    number = models.PositiveIntegerField()
    digest = models.CharField(max_length=16)
    recorded_at = models.DateTimeField()
    resource = models.JSONField()

    class Meta:
        constraints: ClassVar = [
            # One row per version; its index reads a resource's history newest first and
            # its latest version in one range.
            models.UniqueConstraint(
                fields=["resource_type", "resource_id", "number"], name="resource_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.resource_id}/_history/{self.number}"
