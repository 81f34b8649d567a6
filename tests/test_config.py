"""Typed params: the real params.yaml loads, and typos or wrong types fail loudly."""

import pytest

from rrs.config import (AttackParams, MetricsParams, ParamsError, from_mapping, load_params,
                        models, organisms, section)
from tests.conftest import REPO


def test_repository_params_load_into_every_section():
    params = load_params(REPO / "params.yaml")
    assert section(params, "attack", AttackParams).steps > 0
    assert set(models(params)) >= set(organisms(params))


def test_unknown_key_is_rejected_with_its_name():
    with pytest.raises(ParamsError, match="stpes"):
        from_mapping(AttackParams, {"stpes": 2000}, "attack")


def test_wrong_type_is_rejected():
    with pytest.raises(ParamsError, match="attack.steps"):
        from_mapping(AttackParams, {"steps": "many"}, "attack")


def test_bool_is_not_accepted_as_an_integer():
    with pytest.raises(ParamsError):
        from_mapping(AttackParams, {"steps": True}, "attack")


def test_target_modules_accept_a_name_or_a_list():
    assert from_mapping(AttackParams, {"target_modules": "all-linear"}, "a").target_modules == "all-linear"
    assert from_mapping(AttackParams, {"target_modules": ["q_proj"]}, "a").target_modules == ("q_proj",)


def test_rd_aggregate_must_be_median_or_mean():
    with pytest.raises(ParamsError, match="rd_aggregate"):
        MetricsParams(rd_aggregate="mode")


def test_model_source_must_be_known():
    with pytest.raises(ParamsError, match="source"):
        models({"models": {"x": {"source": "zoo", "path": "x"}}})
