"""Issue 18, weak cases of a configuration: every value checked, the key's path named."""

from __future__ import annotations

from typing import Any

import pytest

from skcal.config import build_pipeline, parse_config
from skcal.exceptions import ConfigError


def _config(pipeline: list[dict[str, Any]] | None = None, **changes: Any) -> Any:
    raw: dict[str, Any] = {
        "data": {"source": "jets.root"},
        "features": ["e_reco", "eta"],
        "pipeline": pipeline or [{"NumericalInversion": {}}],
    }
    raw.update(changes)
    return build_pipeline(parse_config(raw))


@pytest.mark.parametrize(
    ("pipeline", "match"),
    [
        (
            [{"MDNCalibrator": {"max_epochs": "two"}}],
            r"pipeline\[0\]\.MDNCalibrator\.max_epochs: The 'max_epochs' parameter .* 'two'",
        ),
        (
            [{"EtaAnnotation": {}}, {"MDNCalibrator": {"module__hidden_sizse": [8]}}],
            r"pipeline\[1\]\.MDNCalibrator\.module__hidden_sizse: DensityNetwork \(the module\) "
            r"has no parameter 'hidden_sizse' \(did you mean 'hidden_sizes'\?\)",
        ),
        (
            [{"MDNCalibrator": {"optimizer__lrr": 0.1}}],
            r"MDNCalibrator\.optimizer__lrr: Adam \(the optimizer\) has no parameter 'lrr'",
        ),
        (
            [{"StandardScaler": {"with_mean": "no"}}, {"NumericalInversion": {}}],
            r"pipeline\[0\]\.StandardScaler\.with_mean: The 'with_mean' parameter",
        ),
        (
            [{"QuantileTransformer": {"n_quantiles": -3}}],
            r"pipeline\[0\]\.QuantileTransformer\.n_quantiles: .* Got -3",
        ),
        (
            [{"SymmetricScaler": {"clip": "yes"}}, {"NumericalInversion": {}}],
            r"pipeline\[0\]\.SymmetricScaler\.clip:",
        ),
    ],
)
def test_a_bad_parameter_value_names_the_path_of_its_key(
    pipeline: list[dict[str, Any]], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        _config(pipeline)


def test_good_routed_names_are_accepted() -> None:
    pipe = _config(
        [
            {
                "MDNCalibrator": {
                    "module__hidden_sizes": [8],
                    "optimizer__weight_decay": 0.1,
                    "iterator_train__shuffle": True,
                }
            }
        ]
    )
    assert pipe.steps[0][1].module__hidden_sizes == (8,)


def test_empty_features_are_blamed_on_features() -> None:
    with pytest.raises(ConfigError, match=r"^features must name at least one column"):
        _config(features=[])


@pytest.mark.parametrize(
    ("source", "match"),
    [
        (["a.root", 2], r"data\.source\[1\] must be str, got int: 2"),
        ([None], r"data\.source\[0\] must be str"),
        ([], "data.source must name at least one file"),
    ],
)
def test_data_source_items_must_be_strings(source: list[Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        _config(data={"source": source})


@pytest.mark.parametrize("step", ["lots", "-5 MB", 0, -3, True])
def test_data_step_size_is_parsed_strictly(step: object) -> None:
    with pytest.raises(ConfigError, match=r"data\.step_size"):
        _config(data={"source": "jets.root", "step_size": step})
    assert _config(data={"source": "jets.root", "step_size": "2 MB"}) is not None
