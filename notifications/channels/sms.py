"""SMS: a small backend interface, a file backend for development, and Twilio.

``send(to=..., body=..., idempotency_key=...)`` returns the provider's message id or raises
TransientSendError / PermanentSendError. ``find_sent(to=..., since=..., idempotency_key=...)``
asks the provider whether it already took the reminder's message (the dispatcher calls it
before re-sending an attempt a crash interrupted): Twilio's Messages API has no
idempotency key for creating a message, so a blind re-send is a second SMS.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.urls import path as url_path
from django.utils import timezone
from django.utils.module_loading import import_string
from requests import RequestException
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from episodes.models import Channel
from notifications.channels.base import (
    Message,
    PermanentSendError,
    TransientSendError,
    render_text,
)
from notifications.checkins.tokens import reminder_id_from_token
from notifications.providers import webhooks

if TYPE_CHECKING:
    from django.urls import URLPattern

    from notifications.channels.base import Contact

_TOO_MANY_REQUESTS = 429
_SERVER_ERROR = 500
# Provider error texts may quote the number; the row keeps the error, never the number.
_PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_CHECKIN_TOKEN = re.compile(r"/check-in/([A-Za-z0-9_\-:]+)/")
# Reconciliation: how far back a message can have been created before the attempt row
# (clocks differ), how many messages per page, how old a check-in token it still reads.
RECONCILE_CLOCK_SKEW = timedelta(minutes=1)
RECONCILE_PAGE_SIZE = 50
RECONCILE_TOKEN_AGE = timedelta(days=400)


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str, idempotency_key: str) -> str: ...

    def find_sent(self, *, to: str, since: datetime, idempotency_key: str) -> str | None: ...


class SmsChannel:
    """SMS (``DeliveryChannel``): the sender ``CAREFLOW_SMS_BACKEND`` names, with consent.

    Twilio's list is asked per row after a crash (``find_sent``), so a chunk costs nothing
    at the phone but list calls.
    """

    name = Channel.SMS
    no_address = "no phone number"

    def chunk_size(self) -> int:
        return settings.CAREFLOW_REMINDER_CHUNK_SMS

    def address(self, patient: Contact) -> str:
        return patient.phone

    def why_not(self, patient: Contact) -> str:
        return "" if patient.sms_consent else "no SMS consent"

    def render(self, *, to: str, template: str, context: dict[str, object]) -> Message:
        return Message(to=to, subject="", body=render_text(f"{template}_sms.txt", context))

    def refused(self, addresses: Collection[str]) -> dict[str, str]:  # noqa: ARG002 - none kept
        return {}

    def send(self, message: Message, *, idempotency_key: str) -> str:
        return get_sms_backend().send(
            to=message.to, body=message.body, idempotency_key=idempotency_key
        )

    def reconcile(self, *, to: str, since: datetime, idempotency_key: str) -> str | None:
        return get_sms_backend().find_sent(to=to, since=since, idempotency_key=idempotency_key)

    def webhooks(self) -> list[URLPattern]:
        return [
            url_path("webhooks/twilio/status/", webhooks.twilio_status, name="twilio-status"),
            url_path("webhooks/twilio/inbound/", webhooks.twilio_inbound, name="twilio-inbound"),
        ]


def get_sms_backend() -> SmsBackend:
    """The backend named by ``CAREFLOW_SMS_BACKEND`` (a dotted path)."""
    return import_string(settings.CAREFLOW_SMS_BACKEND)()


class FileSmsBackend:
    """One JSON file per message in ``CAREFLOW_SMS_FILE_PATH``, for ``make run`` and tests.

    Every send writes a file; ``find_sent`` reads them back (the files are its record of
    what it took, as Twilio's message list is Twilio's).
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path or settings.CAREFLOW_SMS_FILE_PATH)

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        message_id = f"file-{uuid.uuid4().hex}"
        record = {
            "id": message_id,
            "to": to,
            "body": body,
            "idempotency_key": idempotency_key,
            "at": timezone.now().isoformat(),
        }
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            (self.path / f"{idempotency_key}-{message_id}.json").write_text(
                json.dumps(record, ensure_ascii=False), encoding="utf-8"
            )
        except OSError as exc:
            msg = f"cannot write the SMS file: {type(exc).__name__}"
            raise TransientSendError(msg) from exc
        return message_id

    def find_sent(self, *, to: str, since: datetime, idempotency_key: str) -> str | None:
        for path in sorted(self.path.glob(f"{idempotency_key}-*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            try:
                at = datetime.fromisoformat(record["at"])
            except (KeyError, TypeError, ValueError):
                continue
            if record.get("to") == to and at >= since - RECONCILE_CLOCK_SKEW:
                return str(record["id"])
        return None


class TwilioSmsBackend:
    """Twilio's Messages API through the official ``twilio`` package.

    https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
    The library raises ``TwilioRestException`` (HTTP status and Twilio error code) for an
    error answer: 5xx and 429 are transient, any other 4xx permanent. Connection failures
    and timeouts (``requests`` exceptions) are transient. Its HTTP client retries a
    connection that could not be opened (``TWILIO_HTTP_RETRIES``): nothing was sent then,
    so such a retry cannot duplicate a message; a create whose answer was lost is never
    retried blindly (the dispatcher reconciles first: ``find_sent``).

    Each message names a status callback (``TWILIO_STATUS_CALLBACK_URL``) carrying the
    reminder's key, so Twilio's callbacks say which reminder they are about.
    """

    def __init__(self) -> None:
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        self.from_number = settings.TWILIO_FROM_NUMBER
        if not (self.account_sid and self.auth_token and self.from_number):
            msg = "TwilioSmsBackend needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER"
            raise ImproperlyConfigured(msg)
        base = settings.TWILIO_BASE_URL.rstrip("/")
        if not base.startswith(("https://", "http://")):
            msg = "TWILIO_BASE_URL must be an http(s) URL"
            raise ImproperlyConfigured(msg)
        http = TwilioHttpClient(
            timeout=settings.CAREFLOW_SMS_TIMEOUT_SECONDS,
            max_retries=settings.TWILIO_HTTP_RETRIES,
        )
        self.client = Client(self.account_sid, self.auth_token, http_client=http)
        # The API's base URL (tests point it at a local fake; production keeps Twilio's).
        self.client.api.base_url = base

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        callback = status_callback_url(idempotency_key)
        try:
            message = self.client.messages.create(
                to=to,
                from_=self.from_number,
                body=body,
                **({"status_callback": callback} if callback else {}),
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _rest_error(exc) from exc
        except (RequestException, OSError) as exc:
            msg = f"Twilio unreachable: {type(exc).__name__}"
            raise TransientSendError(msg) from exc
        if not message.sid:
            msg = "Twilio answered without a message sid"
            raise TransientSendError(msg)
        return str(message.sid)

    def find_sent(self, *, to: str, since: datetime, idempotency_key: str) -> str | None:
        """The sid of a message Twilio took for this reminder since ``since``; None if none.

        Lists the messages from our number to ``to`` (``GET …/Messages.json?To=&From=``)
        and matches each body's check-in link, which names the reminder (a signed token).
        No ``DateSent`` filter: ``date_sent`` is empty while a message is still queued at
        Twilio, and a queued message is exactly the one a crash may have left behind; the
        list is read back to ``since`` (less a minute of clock skew) by ``date_created``.
        Raises TransientSendError when Twilio cannot be asked: never re-send on a guess.
        """
        floor = since - RECONCILE_CLOCK_SKEW
        try:
            for message in self.client.messages.stream(
                to=to, from_=self.from_number, page_size=RECONCILE_PAGE_SIZE
            ):
                if message.date_created is not None and message.date_created < floor:
                    break
                if reminder_key_in(message.body or "") == idempotency_key:
                    return str(message.sid)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _rest_error(exc, transient=True) from exc
        except TwilioException as exc:
            # A list page that failed: the library raises it with the response attached.
            response = exc.args[1] if len(exc.args) > 1 else None
            msg = f"Twilio HTTP {getattr(response, 'status_code', '-')}: cannot list messages"
            raise TransientSendError(msg) from exc
        except (RequestException, OSError) as exc:
            msg = f"Twilio unreachable: {type(exc).__name__}"
            raise TransientSendError(msg) from exc
        return None


def status_callback_url(idempotency_key: str) -> str:
    """Where Twilio posts this message's status changes, naming the reminder; or empty."""
    base = settings.TWILIO_STATUS_CALLBACK_URL
    if not base:
        return ""
    return f"{base}?{urllib.parse.urlencode({'reminder': idempotency_key})}"


def reminder_key_in(body: str) -> str | None:
    """The reminder key a message body names through its check-in link, if any."""
    for token in _CHECKIN_TOKEN.findall(body):
        try:
            return f"reminder-{reminder_id_from_token(token, max_age=RECONCILE_TOKEN_AGE)}"
        except signing.BadSignature:
            continue
    return None


def _rest_error(
    exc: TwilioRestException | TwilioServiceException, *, transient: bool = False
) -> TransientSendError | PermanentSendError:
    """The library's error answer (legacy or RFC 9457 shape) as ours, without the number."""
    text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or ""
    text = _PHONE_LIKE.sub("[number]", str(text))[:200]
    status = int(getattr(exc, "status", 0) or 0)
    msg = f"Twilio HTTP {status} (error {exc.code or '-'}): {text}".rstrip(": ")
    if transient or status == _TOO_MANY_REQUESTS or status >= _SERVER_ERROR:
        return TransientSendError(msg)
    return PermanentSendError(msg)


class NullSmsBackend:
    """Accepts every message and sends nothing: a channel without I/O, for benchmarks.

    It measures what Careflow itself costs per reminder (claim, checks, attempt rows,
    rendering) without a provider's latency. Never for production: nothing is delivered.
    """

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:  # noqa: ARG002
        return f"null-{idempotency_key}"

    def find_sent(self, *, to: str, since: datetime, idempotency_key: str) -> str | None:  # noqa: ARG002
        return None
