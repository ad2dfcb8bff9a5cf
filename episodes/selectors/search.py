"""Finding patients: by any part of the name (accents and case ignored) or by date of birth.

The one definition of a name search, as SQL on ``episodes_patient``'s columns: the patient
search (API and workspace) and the queue pages' search filter use it. Its expression is
the one the trigram index ``patient_name_trigram`` was built on (migration 0018), so a
search of a 1M-patient install reads the index, not the table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from episodes.models import Patient
from episodes.selectors.access import patient_list_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

# Dates a person types: 1968-04-02, 02/04/1968, 02.04.1968 (day first, as the UK writes it).
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y")
MAX_WORDS = 4
_NAME = (
    'careflow_unaccent(lower("episodes_patient"."given_name" || \' \''
    ' || "episodes_patient"."family_name"))'
)


def parse_birth_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


def _like_escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_words_sql(words: tuple[str, ...]) -> tuple[list[str], list[Any]]:
    """Each word somewhere in the patient's name, accents and case ignored: conditions."""
    where = [f"{_NAME} LIKE '%%' || careflow_unaccent(lower(%s)) || '%%'" for _ in words]
    return where, [_like_escaped(word) for word in words]


def search_terms(text: str) -> tuple[date | None, tuple[str, ...]]:
    """A date of birth, or else up to four words of a name."""
    born = parse_birth_date(text)
    if born is not None:
        return born, ()
    return None, tuple(text.split()[:MAX_WORDS])


def patient_search(user: User, text: str) -> QuerySet[Patient]:
    """The user's patients whose name or date of birth matches ``text``, by name.

    Every patient of the user's care teams, whatever their episodes' states; nothing for
    an empty search.
    """
    born, words = search_terms(text)
    patients = patient_list_for(user)
    if born is not None:
        patients = patients.filter(birth_date=born)
    elif words:
        where, params = name_words_sql(words)
        condition = RawSQL(" AND ".join(where), params, output_field=BooleanField())  # noqa: S611 - fixed text, the words are parameters
        patients = patients.filter(condition)
    else:
        return patients.none()
    return patients.order_by("family_name", "given_name", "id")
