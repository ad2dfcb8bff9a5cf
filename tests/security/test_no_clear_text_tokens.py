"""API tokens are knox's, stored hashed; DRF's clear-text token table is gone."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection


def test_the_clear_text_token_table_is_dropped(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('authtoken_token'), to_regclass('knox_authtoken')")
        old, knox = cursor.fetchone()
    assert old is None
    assert knox is not None  # the other way: the hashed tokens' table is there
    assert not ContentType.objects.filter(app_label="authtoken").exists()
