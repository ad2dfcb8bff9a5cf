"""FHIR subscriptions (interop/subscriptions/): where notifications may go, how they retry.

Read into every environment's settings through ``config.settings.base``; each value comes
from the environment (README.md, "Configuration").
"""

from __future__ import annotations

from config.settings.environment import env

# Hosts a subscription's rest-hook endpoint may name over plain http, and whose addresses
# may be private (loopback, RFC 1918, link-local). Every other endpoint is https and must
# resolve to public addresses only, checked when the subscription is made and again before
# each notification, which then goes to the address that was checked (no second lookup).
CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS = env.list("CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS", default=[])
# Celery queue of the notification deliveries (beside the reminders' by default).
CAREFLOW_SUBSCRIPTION_QUEUE = env("CAREFLOW_SUBSCRIPTION_QUEUE", default="celery")
# A failed notification (5xx, 408, 429, a timeout, no connection) is tried again after
# base x 2^(failures - 1) seconds, at most the cap; the events after it wait (order kept).
CAREFLOW_SUBSCRIPTION_RETRY_BASE_SECONDS = env.int(
    "CAREFLOW_SUBSCRIPTION_RETRY_BASE_SECONDS", default=10
)
CAREFLOW_SUBSCRIPTION_RETRY_CAP_SECONDS = env.int(
    "CAREFLOW_SUBSCRIPTION_RETRY_CAP_SECONDS", default=3600
)
# Seconds an endpoint has to answer, unless the subscription asks for less (backport-timeout).
CAREFLOW_SUBSCRIPTION_TIMEOUT_SECONDS = env.int("CAREFLOW_SUBSCRIPTION_TIMEOUT_SECONDS", default=10)
