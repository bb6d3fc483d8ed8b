"""Docs that stay true: a test fails when a command, format or report is undocumented, when a
generated page drifts from the code, when a page is left out of the site, and when the README
grows past the newcomer's page it is meant to be."""

from __future__ import annotations

import importlib.util
import re
import sys
from typing import Any

import typer.main
from conftest import ROOT

from ingest import cli, formats
from ingest.reports import catalog as reports

README = (ROOT / "README.md").read_text("utf-8")
DOCS = ROOT / "docs"
CLI_PAGE = (DOCS / "cli.md").read_text("utf-8")
FORMAT_PAGES = "\n".join(page.read_text("utf-8") for page in sorted((DOCS / "formats").glob("*.md")))
CATALOGUE = (DOCS / "reports" / "catalogue.md").read_text("utf-8")
TROUBLESHOOTING = (DOCS / "troubleshooting.md").read_text("utf-8")


def _refdocs():  # tools/ is not a package: it ships in no wheel
    spec = importlib.util.spec_from_file_location("refdocs", ROOT / "tools" / "refdocs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def commands(command: Any, path: str = "cyberlog") -> list[str]:
    """Every command's full name, from the command tree typer builds (so sub-apps added with or
    without a name both count)."""
    if hasattr(command, "commands"):
        return [found for name, sub in command.commands.items() for found in commands(sub, f"{path} {name}")]
    return [path]


def test_readme_starts_with_the_two_newcomer_commands():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    setup, tests = blocks[0], blocks[1]
    assert "\n" not in setup and "\n" not in tests, "each is one command to paste"
    assert "cyberlog nightly --config fixtures/cyberlog.toml" in setup and "report run" in setup
    assert "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert tests in ci, ".ci/run must call the README's test command verbatim"


def test_readme_is_a_front_page_not_the_manual():
    lines = len(README.splitlines())
    assert lines <= 200, f"the README has {lines} lines: move the detail into docs/ (at most 200)"


def test_readme_links_into_docs_resolve():
    links = re.findall(r"\]\((docs/[^)#\s]+)(?:#[^)]*)?\)", README)
    assert len(links) >= 10, "the README links into docs/"
    for link in links:
        assert (ROOT / link).is_file(), f"README links to {link}, which does not exist"


def test_every_docs_page_is_in_the_site_nav():
    nav = (ROOT / "mkdocs.yml").read_text("utf-8").split("\nnav:\n", 1)[1]
    in_nav = set(re.findall(r"^\s+- (?:[^:\n]+: )?(\S+\.md)$", nav, re.M))
    pages = {page.relative_to(DOCS).as_posix() for page in DOCS.rglob("*.md")}
    assert in_nav == pages, f"only in docs/: {sorted(pages - in_nav)}; only in the nav: {sorted(in_nav - pages)}"


def test_every_command_is_documented():
    listed = commands(typer.main.get_command(cli.app))
    assert "cyberlog report run" in listed and "cyberlog nightly" in listed
    for command in listed:
        assert f"`{command}" in CLI_PAGE, f"{command} is not in the CLI reference (docs/cli.md)"


def test_every_format_and_report_is_documented():
    for name in formats.names():
        assert re.search(rf"^## `{name}`$", FORMAT_PAGES, re.M), f"{name} has no section in docs/formats/"
        fmt = formats.get(name)
        fields = fmt.model.model_fields.items() if fmt.tabular and fmt.model else ()
        for column in (info.alias or name for name, info in fields):
            assert f"| `{column}` |" in FORMAT_PAGES, f"{name}.{column} is not in its column table in docs/formats/"
    sections = re.split(r"^## ", CATALOGUE, flags=re.M)
    for report in reports.all_reports():
        described = [s for s in sections if s.startswith(f"`{report.name}`\n")]
        assert described, f"{report.name} has no section in docs/reports/catalogue.md"
        for param in report.params:
            assert f"`{param.name}`" in described[0], f"{report.name} param {param.name} is undocumented"


def test_every_exit_code_is_documented():
    from ingest.errors import ExitCode

    for code in ExitCode:
        assert f"| {int(code)} |" in TROUBLESHOOTING


def test_the_cli_reference_and_report_catalogue_are_generated_from_the_code():
    refdocs = _refdocs()
    assert {g.page for g in refdocs.GENERATED} == {"cli.md", "reports/catalogue.md"}
    for page in {g.page for g in refdocs.GENERATED}:
        text = (DOCS / page).read_text("utf-8")
        assert refdocs.page_with_reference(page, text) == text, "run `python tools/refdocs.py --write`"


def test_the_generator_is_not_in_the_package():
    assert not (ROOT / "ingest" / "docs.py").exists(), "the docs generator lives in tools/refdocs.py"
