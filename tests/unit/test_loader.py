"""Loading and validating the definitions (workflows/loader.py), and start-up refusing bad ones."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from datapass import create_app
from tests.conftest import _config
from workflows.loader import (
    BLOCK_KEYS,
    DEFINITIONS_DIR,
    DefinitionError,
    load_definition,
    load_definitions,
)

VALID = {
    "id": "api_test",
    "name": "API Test",
    "provider": {"slug": "dinum", "name": "DINUM", "url": "https://www.numerique.gouv.fr"},
    "description": "Une API de test.",
    "access": "Accès restreint aux administrations.",
    "documentation_url": "https://api.gouv.fr/documentation/api-test",
    "terms_url": "https://api.gouv.fr/cgu/api-test",
    "blocks": ["basic_infos", "legal", "scopes", "volumes"],
    "scopes": [
        {"value": "identite", "label": "Identité", "included": True},
        {"value": "adresse", "label": "Adresse", "group": "Coordonnées"},
        {"value": "ancienne", "label": "Ancienne donnée", "disabled": True},
    ],
    "volumes": [1000, 10000],
}


def _write(directory: Path, data, name: str | None = None) -> Path:
    path = directory / f"{name or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _variant(**changes) -> dict:
    data = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is _DELETE:
            del data[key]
        else:
            data[key] = value
    return data


_DELETE = object()


# --- the shipped definitions ---------------------------------------------------------------


def test_shipped_definitions_load():
    definitions = load_definitions()
    assert len(definitions) >= 4
    assert {
        "api_particulier",
        "api_entreprise",
        "api_impot_particulier_sandbox",
        "api_impot_particulier_production",
    } <= set(definitions)
    assert {p.stem for p in DEFINITIONS_DIR.glob("*.yaml")} == set(definitions)


@pytest.mark.parametrize("path", sorted(DEFINITIONS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_each_shipped_definition_is_usable(path):
    definition = load_definition(path)
    assert definition.id == path.stem
    assert definition.provider.name
    assert definition.blocks
    if "scopes" in definition.blocks:
        assert definition.grantable_scopes
    if "volumes" in definition.blocks:
        assert definition.volumes


def test_impot_particulier_production_follows_its_sandbox():
    definitions = load_definitions()
    sandbox = definitions["api_impot_particulier_sandbox"]
    production = definitions["api_impot_particulier_production"]
    assert sandbox.stage is not None and sandbox.stage.type == "sandbox"
    assert production.stage is not None and production.stage.type == "production"
    assert production.stage.previous == "api_impot_particulier_sandbox"


def test_a_valid_file_loads_with_defaults(tmp_path):
    definition = load_definition(_write(tmp_path, VALID))
    assert definition.id == "api_test"
    assert definition.public is True and definition.sandbox is False
    assert definition.features.messaging and definition.features.reopening
    assert definition.token.lifetime == 3600
    assert [s.value for s in definition.grantable_scopes] == ["identite", "adresse"]
    assert list(definition.scope_groups) == ["Données", "Coordonnées"]
    assert definition.ordered_blocks == ["basic_infos", "legal", "scopes", "volumes"]


def test_blocks_are_ordered_as_the_form_shows_them(tmp_path):
    data = _variant(blocks=["volumes", "scopes", "basic_infos"])
    definition = load_definition(_write(tmp_path, data))
    assert definition.ordered_blocks == [k for k in BLOCK_KEYS if k in data["blocks"]]


# --- bad files: DefinitionError names the file and the field -------------------------------

BAD_DEFINITIONS = [
    ("missing_name", _variant(name=_DELETE), "name", "Field required"),
    ("missing_provider", _variant(provider=_DELETE), "provider", "Field required"),
    ("missing_blocks", _variant(blocks=_DELETE), "blocks", "Field required"),
    ("public_not_bool", _variant(public="peut-être"), "public", "valid boolean"),
    ("blocks_not_list", _variant(blocks="basic_infos"), "blocks", "valid list"),
    ("volumes_not_ints", _variant(volumes=["beaucoup"]), "volumes.0", "valid integer"),
    ("unknown_key", _variant(colour="bleu"), "colour", "Extra inputs are not permitted"),
    (
        "unknown_provider_key",
        _variant(provider={"slug": "dinum", "name": "DINUM", "siret": "1"}),
        "provider.siret",
        "Extra inputs",
    ),
    ("unknown_block", _variant(blocks=["basic_infos", "paiement"]), "blocks.1", "basic_infos"),
    ("no_block", _variant(blocks=[]), "blocks", "at least 1 item"),
    (
        "duplicate_block",
        _variant(blocks=["basic_infos", "basic_infos"]),
        "blocks",
        "a block is listed twice",
    ),
    (
        "duplicate_scope_value",
        _variant(scopes=[{"value": "identite", "label": "A"}, {"value": "identite", "label": "B"}]),
        "scopes",
        "a scope value is listed twice",
    ),
    (
        "no_grantable_scope",
        _variant(scopes=[{"value": "identite", "label": "A", "disabled": True}]),
        "scopes",
        "at least one grantable scope",
    ),
    (
        "included_and_disabled_scope",
        _variant(scopes=[{"value": "identite", "label": "A", "included": True, "disabled": True}]),
        "scopes",
        "both included and disabled",
    ),
    ("volumes_block_without_volumes", _variant(volumes=[]), "volumes", "needs a list of volumes"),
    (
        "scope_value_pattern",
        _variant(scopes=[{"value": "Identité Complète", "label": "A"}]),
        "scopes.0.value",
        "pattern",
    ),
    ("scope_without_label", _variant(scopes=[{"value": "identite"}]), "scopes.0.label", "required"),
    (
        "bad_documentation_url",
        _variant(documentation_url="pas une url"),
        "documentation_url",
        "URL",
    ),
    ("bad_stage_type", _variant(stage={"type": "recette"}), "stage.type", "sandbox"),
    ("token_lifetime_too_short", _variant(token={"lifetime": 10}), "token.lifetime", "60"),
    (
        "bad_feature",
        _variant(features={"messaging": "peut-être"}),
        "features.messaging",
        "valid boolean",
    ),
    (
        "authorization_lifetime_zero",
        _variant(authorization_lifetime_days=0),
        "authorization_lifetime_days",
        "greater than or equal to 1",
    ),
]


@pytest.mark.parametrize(
    ("data", "field", "detail"),
    [case[1:] for case in BAD_DEFINITIONS],
    ids=[case[0] for case in BAD_DEFINITIONS],
)
def test_bad_definition_names_file_and_field(tmp_path, data, field, detail):
    path = _write(tmp_path, data, name="api_test")
    with pytest.raises(DefinitionError) as excinfo:
        load_definition(path)
    message = str(excinfo.value)
    assert "api_test.yaml" in message
    assert f"field '{field}" in message
    assert detail in message


def test_every_error_of_a_file_is_reported_at_once(tmp_path):
    path = _write(tmp_path, _variant(name=_DELETE, public="peut-être"))
    message = str(pytest.raises(DefinitionError, load_definition, path).value)
    assert "field 'name'" in message and "field 'public'" in message


def test_id_must_match_the_file_name(tmp_path):
    path = _write(tmp_path, VALID, name="api_autre")
    with pytest.raises(
        DefinitionError, match=r"api_autre\.yaml: field 'id': 'api_test' must match"
    ):
        load_definition(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id: api_test\nname: [unclosed\n", r"api_test\.yaml: not valid YAML"),
        ("id: api_test\n\tname: tab\n", r"api_test\.yaml: not valid YAML"),
        ("- id\n- name\n", r"api_test\.yaml: expected a mapping at the top level"),
        ("", r"api_test\.yaml: expected a mapping at the top level"),
        (
            "id: api_test\nname: A\nname: B\n",
            r"api_test\.yaml: not valid YAML.*duplicate key 'name'",
        ),
    ],
    ids=["unclosed_flow", "tab_indent", "top_level_list", "empty", "duplicate_key"],
)
def test_unreadable_yaml(tmp_path, text, expected):
    path = tmp_path / "api_test.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match=expected):
        load_definition(path)


def test_file_not_in_utf8(tmp_path):
    path = tmp_path / "api_test.yaml"
    path.write_bytes("id: api_test\nname: API Impôt\n".encode("latin-1"))
    with pytest.raises(DefinitionError, match=r"api_test\.yaml: not valid UTF-8"):
        load_definition(path)


def test_yaml_tags_are_not_executed(tmp_path):
    path = tmp_path / "api_test.yaml"
    path.write_text("id: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="not valid YAML"):
        load_definition(path)


# --- a directory of definitions -------------------------------------------------------------


def _stage_pair(tmp_path, previous: str) -> None:
    _write(tmp_path, _variant(id="api_test_sandbox", stage={"type": "sandbox"}))
    _write(
        tmp_path,
        _variant(id="api_test_production", stage={"type": "production", "previous": previous}),
    )


def test_stage_previous_must_name_a_loaded_definition(tmp_path):
    _stage_pair(tmp_path, previous="api_test_recette")
    with pytest.raises(DefinitionError) as excinfo:
        load_definitions(tmp_path)
    message = str(excinfo.value)
    assert "api_test_production.yaml" in message
    assert "field 'stage.previous'" in message
    assert "'api_test_recette'" in message


def test_stage_previous_to_a_loaded_definition_loads(tmp_path):
    _stage_pair(tmp_path, previous="api_test_sandbox")
    definitions = load_definitions(tmp_path)
    assert definitions["api_test_production"].stage.previous == "api_test_sandbox"


def test_empty_directory_is_refused(tmp_path):
    with pytest.raises(DefinitionError, match="no definition found"):
        load_definitions(tmp_path)


def test_one_bad_file_fails_the_whole_directory(tmp_path):
    _write(tmp_path, VALID)
    _write(tmp_path, _variant(id="api_bad", terms_url=_DELETE))
    with pytest.raises(DefinitionError, match=r"api_bad\.yaml: field 'terms_url'"):
        load_definitions(tmp_path)


def test_definitions_are_frozen(tmp_path):
    definition = load_definition(_write(tmp_path, VALID))
    with pytest.raises(ValueError, match="frozen"):
        definition.name = "Autre"


# --- start-up -------------------------------------------------------------------------------


def test_create_app_refuses_a_bad_definition(tmp_path):
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    _write(definitions, _variant(blocks=["basic_infos", "paiement"]))
    with pytest.raises(DefinitionError, match=r"api_test\.yaml: field 'blocks\.1'"):
        create_app(_config(tmp_path / "var", DEFINITIONS_DIR=str(definitions)))


def test_create_app_reads_the_definitions_dir_from_the_environment(tmp_path, monkeypatch):
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    _write(definitions, _variant(id="api_bad", name=_DELETE))
    monkeypatch.setenv("DATAPASS_DEFINITIONS_DIR", str(definitions))
    with pytest.raises(DefinitionError, match=r"api_bad\.yaml: field 'name'"):
        create_app(_config(tmp_path / "var"))
