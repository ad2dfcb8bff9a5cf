"""The fields the API's serializers are built of: dates, ids, strict booleans, codes."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Final

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from careflow.guards import FUSION_INDICATIONS
from episodes.selectors import MAX_ID

# Dates before this are typing mistakes, and would push reminder times out of range.
EARLIEST_DATE: Final = date(1900, 1, 1)
E164: Final = r"^\+[1-9][0-9]{1,14}$"


def _not_before_1900(value: date) -> None:
    if value < EARLIEST_DATE:
        msg = f"Dates before {EARLIEST_DATE.isoformat()} are not accepted."
        raise serializers.ValidationError(msg, code="before_1900")


def date_field(**kwargs: Any) -> serializers.DateField:
    validators = [_not_before_1900, *kwargs.pop("validators", [])]
    return serializers.DateField(validators=validators, **kwargs)


def id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only: a clinical fact is never guessed from "yes" or 1."""

    def to_internal_value(self, data: Any) -> bool:  # noqa: ANN401 - any JSON value
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
        return False  # unreachable: fail() raises


class StrictCharField(serializers.CharField):
    """A JSON string only: a number sent for text is a client's mistake, not text to keep.

    Its length is the length sent, before surrounding whitespace is trimmed: the schema's
    ``maxLength`` counts what the client sends.
    """

    def to_internal_value(self, data: Any) -> str:  # noqa: ANN401 - any JSON value
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


def choices(values: Any) -> list[str]:  # noqa: ANN401 - an enum or a sequence of strings
    return [str(v) for v in values]


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": list(FUSION_INDICATIONS)},
            {
                "type": "array",
                "items": {"type": "string", "enum": list(FUSION_INDICATIONS)},
                "minItems": 1,
                "maxItems": len(FUSION_INDICATIONS),
            },
        ]
    }
)
class FusionIndicationField(serializers.Field):
    """One SX-5 code, or a list of them (a reoperation names its qualifier with it)."""

    default_error_messages: ClassVar = {
        "invalid": "One code or a list of codes, each one of: " + ", ".join(FUSION_INDICATIONS),
    }

    def to_internal_value(self, data: object) -> list[str]:
        codes = [data] if isinstance(data, str) else data
        if (
            not isinstance(codes, list)
            or not 0 < len(codes) <= len(FUSION_INDICATIONS)
            or not all(isinstance(c, str) and c in FUSION_INDICATIONS for c in codes)
        ):
            self.fail("invalid")
        return sorted(set(codes))

    def to_representation(self, value: object) -> object:
        return value
