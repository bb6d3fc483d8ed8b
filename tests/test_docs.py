"""Docs that stay true: a test fails when a command, format or report is undocumented."""

from __future__ import annotations

import re

import typer
from conftest import ROOT

from ingest import cli, formats
from ingest.reports import catalog as reports

README = (ROOT / "README.md").read_text("utf-8")


def commands(app: typer.Typer, prefix: str = "cyberlog") -> list[str]:
    found = [f"{prefix} {c.name or c.callback.__name__}" for c in app.registered_commands if c.callback]
    for group in app.registered_groups:
        assert group.typer_instance is not None
        found += commands(group.typer_instance, f"{prefix} {group.name}")
    return found


def test_readme_starts_with_the_two_newcomer_commands():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    setup, tests = blocks[0], blocks[1]
    assert "\n" not in setup and "\n" not in tests, "each is one command to paste"
    assert "cyberlog nightly --config fixtures/cyberlog.toml" in setup and "report run" in setup
    assert "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert tests in ci, ".ci/run must call the README's test command verbatim"


def test_every_command_is_documented():
    listed = commands(cli.app)
    assert "cyberlog report run" in listed and "cyberlog nightly" in listed
    for command in listed:
        assert f"`{command}" in README, f"{command} is not in the README's CLI reference"


def test_every_format_and_report_is_documented():
    for name in formats.names():
        assert f"### `{name}`" in README
        fmt = formats.get(name)
        fields = fmt.model.model_fields.items() if fmt.tabular and fmt.model else ()
        for column in (info.alias or name for name, info in fields):
            assert f"| `{column}` |" in README, f"{name}.{column} is not in the README's column table"
    for report in reports.all_reports():
        assert f"**`{report.name}`**" in README
        for param in report.params:
            assert f"`{param.name}`" in README, f"{report.name} param {param.name} is undocumented"


def test_every_exit_code_is_documented():
    from ingest.errors import ExitCode

    for code in ExitCode:
        assert f"| {int(code)} |" in README


def test_the_cli_reference_is_generated_from_the_commands():
    from ingest import docs

    assert docs.readme_with_reference(README) == README, "run `python -m ingest.docs --write`"
