"""The distinct ways a write is refused; each changes nothing (the API maps them to codes)."""

from __future__ import annotations

from careflow.guards import Reason


class TransitionError(Exception):
    """Base of the distinct ways a transition is refused; each changes nothing."""

    code = "transition_error"


class UnknownTransitionError(TransitionError):
    code = "not_found"


class InvalidTransitionError(TransitionError):
    """Not allowed from the episode's current state (409 invalid_transition)."""

    code = "invalid_transition"


class StaleVersionError(TransitionError):
    """The episode changed since the version the client sent (409 conflict)."""

    code = "conflict"


class NotPermittedError(TransitionError):
    """A clinician-only transition asked for by someone else (403)."""

    code = "permission_denied"


class EpisodeClosedError(TransitionError):
    """A write to a resolved or closed episode (409 episode_closed): it takes no changes."""

    code = "episode_closed"


class GuardFailedError(TransitionError):
    """A guideline rule blocks the transition (422 guard_failed); every reason listed."""

    code = "guard_failed"

    def __init__(self, message: str, reasons: list[Reason]) -> None:
        super().__init__(message)
        self.reasons = reasons
