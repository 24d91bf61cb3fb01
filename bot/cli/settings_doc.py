"""The settings tables of docs/settings.md, generated from the settings classes themselves.

Each setting's meaning is its field's ``description``; the names are the environment variables
pydantic-settings reads for it (the alias, every alias choice, or prefix + field name), so the
table lists exactly what the code reads. ``python -m bot.cli.settings_doc --write`` refreshes the
tables between the markers of docs/settings.md (the prose around them is written by hand); a test
fails when the two disagree.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from bot.config import Settings
from bot.vendors.registry import specs

START, END = "<!-- settings:start -->", "<!-- settings:end -->"
SETTINGS_DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def env_names(model: type[BaseSettings], field: str) -> list[str]:
    """Every environment variable that sets ``field`` of ``model``, the preferred one first."""
    info = model.model_fields[field]
    if info.alias:
        return [info.alias]
    if isinstance(info.validation_alias, AliasChoices):
        return [c for c in info.validation_alias.choices if isinstance(c, str)]
    if isinstance(info.validation_alias, str):
        return [info.validation_alias]
    return [(str(model.model_config.get("env_prefix", "")) + field).upper()]


def settings_classes() -> list[tuple[str, type[BaseSettings]]]:
    """The bot's own settings, then each vendor's, in routing order."""
    return [("Timebot", Settings), *((s.label, s.settings_cls) for s in specs())]


def read_names() -> set[str]:
    """Every environment variable any settings class reads."""
    return {name for _, model in settings_classes() for field in model.model_fields for name in env_names(model, field)}


def shown_default(info: FieldInfo) -> str:
    extra = info.json_schema_extra
    if isinstance(extra, dict) and "doc_default" in extra:
        return str(extra["doc_default"])
    value = info.default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


def table(model: type[BaseSettings]) -> str:
    lines = ["| Setting | Default | Meaning |", "|---|---|---|"]
    # A model's own settings first, then those it extends (Settings extends VendorAccess): the
    # Slack and database settings lead the table, as a reader sets them first.
    own = inspect.get_annotations(model)
    for field, info in sorted(model.model_fields.items(), key=lambda item: item[0] not in own):
        if not info.description:
            raise ValueError(f"{model.__name__}.{field} has no description: the settings table needs one")
        first, *others = env_names(model, field)
        name = f"`{first}`" + "".join(f" (or `{o}`)" for o in others)
        lines.append(f"| {name} | {shown_default(info)} | {info.description} |")
    return "\n".join(lines)


def settings_tables() -> str:
    parts = []
    for label, model in settings_classes():
        if model is not Settings:
            parts.append(f"**{label}**")
        parts.append(table(model))
    return "\n\n".join(parts)


def generated_section(text: str) -> str:
    start, end = text.index(START) + len(START), text.index(END)
    return text[start:end].strip()


def documented_names(text: str) -> set[str]:
    """The setting names in the generated tables (first column, each backticked name)."""
    names = set()
    for line in generated_section(text).splitlines():
        if line.startswith("| `"):
            names.update(line.split("|")[1].split("`")[1::2])
    return names


def write_doc(path: Path = SETTINGS_DOC) -> None:
    text = path.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    path.write_text(text[:start] + "\n" + settings_tables() + "\n" + text[end:])


if __name__ == "__main__":
    if "--write" in sys.argv:
        write_doc()
    else:
        print(settings_tables())
