"""The scenario format's JSON Schema (scenarios/scenario.schema.json, what
``cdnsim schema`` prints) checked with a real validator, the one editors'
errors stand for: every bundled file is valid; a misspelled field, a name
off a list and a value with a wrong unit are not, and the error names the
field. Each bad file is also given to ``cdnsim validate``, which must
refuse it at the same field: the schema and the parser agree."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import jsonschema
import pytest

import cdnsim
from conftest import SCENARIOS

SCHEMA = json.loads((SCENARIOS / "scenario.schema.json").read_text())
TOPOLOGY_SCHEMA = json.loads((SCENARIOS / "topologies" / "topology.schema.json").read_text())
QUICKSTART = (SCENARIOS / "quickstart.toml").read_text()


def errors(doc: dict, schema: dict = SCHEMA) -> list[jsonschema.ValidationError]:
    return list(jsonschema.Draft7Validator(schema).iter_errors(doc))


def test_the_schemas_are_valid_draft_07() -> None:
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.Draft7Validator.check_schema(TOPOLOGY_SCHEMA)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_every_bundled_scenario_is_valid(path: Path) -> None:
    assert errors(tomllib.loads(path.read_text())) == []


@pytest.mark.parametrize("path", sorted((SCENARIOS / "topologies").glob("*.toml")), ids=lambda p: p.name)
def test_every_bundled_topology_is_valid(path: Path) -> None:
    assert errors(tomllib.loads(path.read_text()), TOPOLOGY_SCHEMA) == []


def bad(old: str, new: str) -> str:
    assert QUICKSTART.count(old) == 1, old
    return QUICKSTART.replace(old, new)


def parser_refuses(tmp_path: Path, text: str, field: str) -> str:
    """``cdnsim validate`` on ``text``: exit 2, a message naming ``field``
    (the parser names a misspelled key by its own path)."""
    f = tmp_path / "bad.toml"
    f.write_text(text)
    p = subprocess.run([str(cdnsim.find_binary()), "validate", str(f)], capture_output=True, text=True)
    assert p.returncode == 2, p.stdout + p.stderr
    assert f": {field}" in p.stderr, p.stderr
    return p.stderr


@pytest.mark.parametrize(
    ("old", "new", "path", "name", "field"),
    [
        # In a table, in an array of tables, and a whole section.
        ("arrivals_per_s = 5.0", "arival_per_s = 5.0", ["viewers"], "arival_per_s", "viewers.arival_per_s"),
        ('name = "bj-src"', 'nmae = "bj-src"', ["nodes", 0], "nmae", "nodes[0].nmae"),
        ("[transport]", "[transprot]", [], "transprot", "transprot"),
    ],
)
def test_a_misspelled_field_fails_naming_it(tmp_path: Path, old: str, new: str, path: list, name: str, field: str) -> None:
    text = bad(old, new)
    errs = [e for e in errors(tomllib.loads(text)) if e.validator != "required"]
    assert [(list(e.absolute_path), e.validator) for e in errs] == [(path, "additionalProperties")], errs
    assert f"'{name}' was unexpected" in errs[0].message
    # The parser refuses it too, at the misspelled key.
    parser_refuses(tmp_path, text, field)


def test_a_name_off_a_list_fails(tmp_path: Path) -> None:
    text = bad('role = "source"', 'role = "sorce"')
    errs = errors(tomllib.loads(text))
    assert [(list(e.absolute_path), e.validator) for e in errs] == [(["nodes", 0, "role"], "enum")], errs
    assert "'source', 'centre', 'edge'" in errs[0].message
    parser_refuses(tmp_path, text, "nodes[0].role")


@pytest.mark.parametrize(
    ("old", "new", "path", "field"),
    [
        ('duration = "120 s"', 'duration = "120 sec"', ["run", "duration"], "run.duration"),
        # Units are case-sensitive: MBps would be bytes.
        ('bitrate = "2 Mbps"', 'bitrate = "2 MBps"', ["stream", "bitrate"], "stream.bitrate"),
        ('chunk = "16 KiB"', 'chunk = "-16 KiB"', ["stream", "chunk"], "stream.chunk"),
        ('duration = "120 s"', 'duration = "120"', ["run", "duration"], "run.duration"),
    ],
)
def test_a_wrong_unit_fails(tmp_path: Path, old: str, new: str, path: list, field: str) -> None:
    text = bad(old, new)
    errs = errors(tomllib.loads(text))
    assert [(list(e.absolute_path), e.validator) for e in errs] == [(path, "pattern")], errs
    parser_refuses(tmp_path, text, field)


@pytest.mark.parametrize("value", ["1_000 ms", "+.5 s", " 2s ", "1.5 min", "3\u3000h"])
def test_unusual_spellings_the_parser_reads_are_valid(value: str) -> None:
    assert errors(tomllib.loads(bad('duration = "120 s"', f"duration = {json.dumps(value)}"))) == []


def test_a_sweep_is_checked_too() -> None:
    sweep = '\n[sweep]\nreplications = 2\nseeds = "common"\n"viewers.arrivals_per_s" = [1.0, 2.0]\n'
    assert errors(tomllib.loads(QUICKSTART + sweep)) == []
    errs = errors(tomllib.loads(QUICKSTART + sweep.replace('"common"', '"comon"').replace('"viewers.arrivals_per_s"', "arrivals")))
    assert sorted((list(e.absolute_path), e.validator) for e in errs) == [
        (["sweep"], "additionalProperties"),
        (["sweep", "seeds"], "enum"),
    ], errs
