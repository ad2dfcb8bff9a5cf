"""Who must give a second factor at sign-in: the workspace's and the token endpoint's policy.

Superusers (they reach every team's records and the admin), clinicians of any care team
(they make the clinical decisions) and team leads (they let people in) always; everyone else when
``CAREFLOW_MFA_REQUIRED_FOR_ALL`` is true. A user who set up an authenticator app is asked
for its code whatever their role, so a factor once given is not dropped by a change of role.
How a code is checked and the pending sign-in are ``infra/second_factor.py``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q

from episodes.models import CareTeamMembership, Role
from infra import second_factor


def second_factor_required(user: Any) -> bool:  # noqa: ANN401 - auth user
    if user.is_superuser or settings.CAREFLOW_MFA_REQUIRED_FOR_ALL:
        return True
    # Team leads too: they give the clinician role and let people in (teams/).
    return (
        CareTeamMembership.objects.filter(user=user)
        .filter(Q(role=Role.CLINICIAN) | Q(is_lead=True))
        .exists()
    )


def second_factor_asked(user: Any) -> bool:  # noqa: ANN401 - auth user
    """The password alone does not sign this user in."""
    return second_factor_required(user) or second_factor.has_device(user)
