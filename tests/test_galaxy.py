"""Actor and technique names through the MISP galaxies that pymispgalaxies ships."""

from __future__ import annotations

import pytest

from ingest.canon import galaxy


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        # the splits: one actor, however a feed writes it
        ("GRU", "GRU"),
        ("GRU (Russian military intelligence)", "GRU"),
        ("MUSTANG PANDA", "MUSTANG PANDA"),
        ("Mustang Panda", "MUSTANG PANDA"),
        ("mustang-panda", "MUSTANG PANDA"),
        ("Ghostwriter", "Ghostwriter"),
        ("UNC1151", "Ghostwriter"),
        # synonyms across vendors, and an ATT&CK intrusion set joining its threat actor
        ("Fancy Bear", "APT28"),
        ("Sofacy", "APT28"),
        ("Sandworm Team", "Sandworm"),
        ("Voodoo Bear", "Sandworm"),
        ("Ember Bear", "SaintBear"),
        ("Cozy Bear", "APT29"),
        # a nickname two actors share says neither: "Grizzly Steppe" is APT28 and APT29
        ("Grizzly Steppe", "Grizzly Steppe"),
        # a name the galaxies do not know is tidied, never guessed
        ("  Some   New Crew ", "Some New Crew"),
    ],
)
def test_actor_names_resolve_to_one_canonical_name(written, canonical):
    assert galaxy.actor(written) == canonical


@pytest.mark.parametrize(
    ("name", "technique"),
    [
        ("Network Denial of Service", "T1498"),
        ("Defacement", "T1491"),
        ("Disk Wipe", "T1561"),
        ("Data Encrypted for Impact", "T1486"),
        ("Exploit Public-Facing Application", "T1190"),
    ],
)
def test_attack_pattern_names_give_their_attack_ids(name, technique):
    assert technique in galaxy.techniques(name)
