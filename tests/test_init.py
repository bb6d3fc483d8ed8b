"""`cyberlog init`: a commented cyberlog.toml that the nightly job takes as it is."""

from __future__ import annotations

import re

from conftest import run

from ingest import formats
from ingest.run.config import load_config


def test_init_writes_a_config_the_nightly_accepts(tmp_path):
    config = tmp_path / "cyberlog.toml"
    result = run("init", config)
    assert result.code == 0 and "wrote" in result.err
    settings = load_config(config)
    assert [s.format for s in settings.sources] == ["incidents_csv"]
    nightly = run("nightly", "--config", config, "--db", tmp_path / "s.duckdb")
    assert nightly.code == 0 and "no files match incidents/*.csv" in nightly.err


def test_every_commented_example_is_a_real_format(tmp_path):
    config = tmp_path / "cyberlog.toml"
    run("init", config)
    named = [
        ln.split('"')[1] for ln in config.read_text("utf-8").splitlines() if ln.lstrip("# ").startswith("format =")
    ]
    assert named and set(named) <= set(formats.names())
    setting = re.compile(r"^# (\[|[a-z_]+ = )")  # a commented-out setting, not prose
    lines = config.read_text("utf-8").splitlines()
    uncommented = "\n".join(ln[2:] if setting.match(ln) else ln for ln in lines)
    config.write_text(uncommented.replace("/var/log/suricata/", ""), "utf-8")
    assert len(load_config(config).sources) == len(named)


def test_init_never_overwrites_unless_told(tmp_path):
    config = tmp_path / "cyberlog.toml"
    config.write_text("mine", "utf-8")
    refused = run("init", config)
    assert refused.code == 2 and "exists" in refused.err and config.read_text("utf-8") == "mine"
    assert run("init", config, "--force").code == 0 and config.read_text("utf-8") != "mine"
