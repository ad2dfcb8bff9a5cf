"""SMS: a small backend interface, a file backend for development, and Twilio's REST API.

``send(to=..., body=..., idempotency_key=...)`` returns the provider's message id or raises
TransientSendError / PermanentSendError. The idempotency key is the reminder's: a re-send
after a crash in flight carries the same key, and a provider that honours it (Twilio's
``I-Twilio-Idempotency-Token``) answers with the first message instead of sending again.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

from notifications.channels.base import PermanentSendError, TransientSendError

# https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides (idempotency)
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
_TOO_MANY_REQUESTS = 429
_SERVER_ERROR = 500
# Provider error texts may quote the number; the row keeps the error, never the number.
_PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str, idempotency_key: str) -> str: ...


def get_sms_backend() -> SmsBackend:
    """The backend named by ``CAREFLOW_SMS_BACKEND`` (a dotted path)."""
    return import_string(settings.CAREFLOW_SMS_BACKEND)()


class FileSmsBackend:
    """One JSON file per message in ``CAREFLOW_SMS_FILE_PATH``, for ``make run`` and tests.

    It has no memory of earlier sends: a re-send after a crash in flight writes a second
    file with the same idempotency key (docs/REMINDERS.md states this).
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


class TwilioSmsBackend:
    """Twilio's Messages API over HTTPS with basic auth (stdlib only).

    https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
    5xx, 429, timeouts and connection failures are transient; any other 4xx is permanent.
    """

    def __init__(self) -> None:
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        self.from_number = settings.TWILIO_FROM_NUMBER
        if not (self.account_sid and self.auth_token and self.from_number):
            msg = "TwilioSmsBackend needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER"
            raise ImproperlyConfigured(msg)
        base = settings.TWILIO_BASE_URL.rstrip("/")
        sid = urllib.parse.quote(self.account_sid, safe="")
        self.url = f"{base}/2010-04-01/Accounts/{sid}/Messages.json"
        if not self.url.startswith(("https://", "http://")):
            msg = "TWILIO_BASE_URL must be an http(s) URL"
            raise ImproperlyConfigured(msg)
        self.timeout = settings.CAREFLOW_SMS_TIMEOUT_SECONDS

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=urllib.parse.urlencode(
                {"To": to, "From": self.from_number, "Body": body}
            ).encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                IDEMPOTENCY_HEADER: idempotency_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise _http_error(exc) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            msg = f"Twilio unreachable: {type(exc).__name__}"
            raise TransientSendError(msg) from exc
        except ValueError as exc:
            msg = "Twilio answered with a body that is not JSON"
            raise TransientSendError(msg) from exc
        sid = payload.get("sid") if isinstance(payload, dict) else None
        if not sid:
            msg = "Twilio answered without a message sid"
            raise TransientSendError(msg)
        return str(sid)


def _http_error(exc: urllib.error.HTTPError) -> TransientSendError | PermanentSendError:
    try:
        detail = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    text = _PHONE_LIKE.sub("[number]", str(detail.get("message", "")))[:200]
    msg = f"Twilio HTTP {exc.code} (error {detail.get('code', '-')}): {text}".rstrip(": ")
    if exc.code == _TOO_MANY_REQUESTS or exc.code >= _SERVER_ERROR:
        return TransientSendError(msg)
    return PermanentSendError(msg)


class NullSmsBackend:
    """Accepts every message and sends nothing: a channel without I/O, for benchmarks.

    It measures what Careflow itself costs per reminder (claim, checks, attempt rows,
    rendering) without a provider's latency. Never for production: nothing is delivered.
    """

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:  # noqa: ARG002
        return f"null-{idempotency_key}"
