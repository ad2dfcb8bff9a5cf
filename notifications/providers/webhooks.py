"""Provider webhooks: Twilio's status callbacks and inbound SMS, the ESP's tracking events.

Each request's signature is checked first; a missing or wrong one is ``403`` and changes
nothing. Anything else a client sends is answered without a ``500``: unknown fields are
ignored, a malformed body is ``400``. Retries are dropped by the provider's idempotency
token (Twilio's ``I-Twilio-Idempotency-Token``; the ESP's event id).

- Twilio signs each request with ``X-Twilio-Signature`` over the URL it requested and the
  POST parameters; the library's ``RequestValidator`` checks it with our auth token. The URL
  is the one Twilio was given, never the Host header: ``TWILIO_STATUS_CALLBACK_URL`` for
  status callbacks, ``CAREFLOW_PUBLIC_BASE_URL`` and the path for inbound messages. https://www.twilio.com/docs/usage/webhooks/webhooks-security
- The ESP's tracking webhook is Anymail's view (HTTP basic auth with
  ``ANYMAIL_WEBHOOK_SECRET``: Postmark signs nothing and documents basic auth in the URL).
  https://anymail.dev/en/stable/esps/postmark/#status-tracking-webhooks
"""

from __future__ import annotations

import logging
import re

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.signals import AnymailTrackingEvent, tracking
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from django.conf import settings
from django.core.exceptions import BadRequest
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from infra.metrics import WEBHOOK_REJECTIONS
from notifications.providers import events

logger = logging.getLogger(__name__)

_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
_ERROR_CODE = re.compile(r"^\d{1,10}$")
_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _twilio_params(request: HttpRequest, given: str = "") -> dict[str, str] | None:
    """The POST parameters when Twilio's signature over them is right; None otherwise.

    ``given``: the URL Twilio was given for this webhook, without its query (the status
    callback's, ``TWILIO_STATUS_CALLBACK_URL``, may be on another host than the public
    one); empty: ``CAREFLOW_PUBLIC_BASE_URL`` and the request's path.
    """
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return None
    try:
        params = request.POST.dict()
    except (MultiPartParserError, BadRequest, ValueError):
        return None  # a body no form parser can read was not signed by Twilio
    base = given or settings.CAREFLOW_PUBLIC_BASE_URL.rstrip("/") + request.path
    query = request.META.get("QUERY_STRING", "")
    url = f"{base}?{query}" if query else base
    if not RequestValidator(token).validate(url, params, signature):
        return None
    return params


def _forbidden(webhook: str) -> HttpResponse:
    WEBHOOK_REJECTIONS.labels(webhook, "signature").inc()
    return HttpResponse("invalid signature", status=403, content_type="text/plain")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """``POST /webhooks/twilio/status/?reminder=<key>``: one message status change."""
    params = _twilio_params(request, settings.TWILIO_STATUS_CALLBACK_URL.split("?", 1)[0])
    if params is None:
        return _forbidden("twilio_status")
    sid = params.get("MessageSid", "")
    status = params.get("MessageStatus", "").lower()
    code = params.get("ErrorCode", "")
    if not _SID.match(sid) or status not in events.SMS_STATUSES:
        return HttpResponse("ignored", status=200, content_type="text/plain")
    outcome = events.sms_status_record(
        token=request.headers.get("I-Twilio-Idempotency-Token", ""),
        message_sid=sid,
        status=status,
        error_code=code if _ERROR_CODE.match(code) else "",
        reminder_key=request.GET.get("reminder", "")[:40],
    )
    return HttpResponse(outcome, status=200, content_type="text/plain")


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """``POST /webhooks/twilio/inbound/``: an SMS a patient sent to our number.

    Answered with empty TwiML: for its default opt-out words Twilio itself sends the
    confirmation, and a reply is for the care team, not an automatic answer.
    """
    params = _twilio_params(request)
    if params is None:
        return _forbidden("twilio_inbound")
    sid = params.get("MessageSid", "")
    sender = params.get("From", "")
    if _SID.match(sid) and sender:
        events.sms_inbound_record(
            token=request.headers.get("I-Twilio-Idempotency-Token", ""),
            message_sid=sid,
            from_number=sender[:16],
            body=params.get("Body", ""),
            opt_out_type=params.get("OptOutType", "")[:10],
        )
    return HttpResponse(_EMPTY_TWIML, content_type="text/xml")


_postmark_view = PostmarkTrackingWebhookView.as_view()


@csrf_exempt
def postmark_tracking(request: HttpRequest) -> HttpResponse:
    """Anymail's Postmark tracking view: a wrong password is 403, a bad body 400."""
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return _forbidden(
            "postmark_tracking"
        )  # without a secret, Anymail would accept anyone's events
    try:
        return _postmark_view(request)
    except AnymailWebhookValidationFailure:
        return _forbidden("postmark_tracking")
    except (ValueError, KeyError, TypeError, AttributeError):
        WEBHOOK_REJECTIONS.labels("postmark_tracking", "malformed").inc()
        return HttpResponse("malformed event", status=400, content_type="text/plain")


@receiver(tracking)
def _on_email_event(event: AnymailTrackingEvent, **_: object) -> None:
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    events.email_event_record(
        event_id=str(event.event_id or "")[:200],
        message_id=str(event.message_id or "")[:200],
        event_type=str(event.event_type or ""),
        reject_reason=str(event.reject_reason or ""),
        recipient=str(event.recipient or ""),
        description=str(event.description or "")[:120],
        at=event.timestamp,
        # The reminder's key, sent as metadata with the message and carried back by the ESP.
        reminder_key=str(metadata.get("reminder", ""))[:40],
    )
