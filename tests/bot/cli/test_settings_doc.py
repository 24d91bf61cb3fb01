"""The settings tables of docs/settings.md and the settings the code reads are one list."""

from __future__ import annotations

import pytest

from bot.cli.settings_doc import (
    SETTINGS_DOC,
    documented_names,
    env_names,
    generated_section,
    read_names,
    settings_classes,
    settings_tables,
)


def test_the_documented_settings_tables_are_the_ones_generated_from_the_settings() -> None:
    assert generated_section(SETTINGS_DOC.read_text()) == settings_tables(), (
        "docs/settings.md is stale: run `python -m bot.cli.settings_doc --write`"
    )


def test_every_setting_the_code_reads_is_documented_and_every_documented_one_is_read() -> None:
    documented = documented_names(SETTINGS_DOC.read_text())
    read = read_names()
    assert read - documented == set(), "read but not in docs/settings.md's settings table"
    assert documented - read == set(), "in docs/settings.md's settings table but read by nothing"


def test_every_setting_has_a_description_for_the_table() -> None:
    missing = [
        f"{model.__name__}.{field}"
        for _, model in settings_classes()
        for field, info in model.model_fields.items()
        if not info.description
    ]
    assert missing == []


def test_a_field_name_in_the_environment_changes_no_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the documented names are read: ``WORKERS`` or ``BASE_URL`` set for another program in
    the same container must not configure Timebot."""
    before = {label: model(_env_file=None).model_dump() for label, model in settings_classes()}  # type: ignore[call-arg]
    documented = read_names()
    for _, model in settings_classes():
        prefix = str(model.model_config.get("env_prefix", ""))
        for field in model.model_fields:
            for name in {field.upper(), (prefix + field).upper()} - documented - set(env_names(model, field)):
                monkeypatch.setenv(name, "http://undocumented.example")
    after = {label: model(_env_file=None).model_dump() for label, model in settings_classes()}  # type: ignore[call-arg]
    assert after == before
