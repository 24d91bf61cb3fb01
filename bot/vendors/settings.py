"""Setting types shared by the bot's and each vendor's settings, so a bad value stops start-up
with one line that names the environment variable (never a traceback at first use)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AliasChoices, ValidationError
from pydantic_settings import BaseSettings


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line that says how to fix it."""


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r} (use a name like Europe/London)") from exc
    return value


def _http_url(value: str | None) -> str | None:
    if value:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"{value!r} is not a URL; give the full address, like https://example.com")
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
BaseUrl = Annotated[str, AfterValidator(_http_url)]


def env_name(model: type[BaseSettings], field: str) -> str:
    """The environment variable that sets ``field`` of ``model``."""
    info = model.model_fields.get(field)
    if info is None:
        return field
    if info.alias:
        return info.alias
    if isinstance(info.validation_alias, AliasChoices):
        first = info.validation_alias.choices[0]
        if isinstance(first, str):
            return first
    return (str(model.model_config.get("env_prefix", "")) + field).upper()


def one_line(exc: ValidationError, model: type[BaseSettings]) -> str:
    """Pydantic's multi-line report as one line a person can act on."""
    err = exc.errors()[0]
    name = env_name(model, str(err["loc"][0])) if err.get("loc") else "a setting"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{name} is invalid: {message}."
