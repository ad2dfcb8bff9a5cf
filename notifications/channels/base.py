"""What every channel raises: the worker retries the first kind and gives up on the second."""

from __future__ import annotations


class SendError(Exception):
    """A send that did not go through; the message never carries patient details."""


class TransientSendError(SendError):
    """Worth retrying later: timeouts, connection failures, 5xx, rate limits (429)."""


class PermanentSendError(SendError):
    """Retrying cannot help: the provider refused the message or the address (4xx)."""
