"""Bad input is refused before any trial starts, with an error naming what is wrong."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest
from ray import tune
from sklearn.pipeline import make_pipeline

from skcal.exceptions import ConfigError, DataError, ParameterError
from skcal.inversion import NumericalInversion
from skcal.tune import tune_pipeline
from skcal.tune._cluster import parse_resources
from skcal.tune._params import check_param_names
from skcal.tune._space import decode, encode_space
from skcal.tune._trial import history_metrics, trial_device

from .conftest import mdn_pipeline

LR = {"mdncalibrator__lr": tune.loguniform(1e-4, 1e-2)}


def _sweep(tmp_path, pipe=None, space=None, **kwargs):
    X = pd.DataFrame(
        {
            "e_reco": np.linspace(30, 300, 200),
            "pt_reco": np.linspace(20, 200, 200),
            "eta": np.zeros(200),
            "mu": np.ones(200),
        }
    )
    kwargs.setdefault("storage_path", tmp_path / "sweeps")
    return tune_pipeline(pipe or mdn_pipeline(), space or LR, X, np.full(200, 0.9), **kwargs)


def test_unknown_parameter_lists_the_valid_names_before_anything_starts(tmp_path):
    with pytest.raises(ConfigError) as info:
        _sweep(tmp_path, space={"mdncalibrator__learning_rate": tune.loguniform(1e-4, 1e-2)})
    message = str(info.value)
    assert "'mdncalibrator__learning_rate'" in message
    assert (
        "mdncalibrator__lr" in message
        and "Valid names" in message
        and "symmetricscaler__clip" in message
    )
    assert not (tmp_path / "sweeps").exists()


def test_routed_skorch_names_are_accepted_and_module_arguments_checked():
    pipe = mdn_pipeline()
    check_param_names(
        pipe,
        [
            "mdncalibrator__module__hidden_sizes",
            "mdncalibrator__optimizer__weight_decay",
            "mdncalibrator__iterator_train__shuffle",
            "logtransformer__offset",
        ],
    )
    with pytest.raises(ConfigError, match="DensityNetwork takes .*hidden_sizes"):
        check_param_names(pipe, ["mdncalibrator__module__hidden_size"])
    with pytest.raises(ConfigError, match="'symmetricscaler__clipping'"):
        check_param_names(pipe, ["symmetricscaler__clipping"])


def test_a_metric_that_is_never_reported_is_refused(tmp_path):
    with pytest.raises(
        ConfigError, match=r"'valid_fom' is never reported.*valid_loss.*figure_of_merit"
    ):
        _sweep(tmp_path, metric="valid_fom")
    ni = make_pipeline(NumericalInversion())
    with pytest.raises(ConfigError, match=r"'valid_loss' is never reported"):
        _sweep(tmp_path, pipe=ni, space={"numericalinversion__min_entries": tune.choice([10, 20])})


def test_bad_options(tmp_path):
    with pytest.raises(ParameterError, match="unknown key.*'cpus'"):
        _sweep(tmp_path, resources_per_trial={"cpus": 2})
    with pytest.raises(ParameterError, match=r"resources_per_trial\['gpu'\].*\[0.0, inf\)"):
        _sweep(tmp_path, resources_per_trial={"cpu": 1, "gpu": -1})
    with pytest.raises(ParameterError, match="'mode' parameter of tune_pipeline"):
        _sweep(tmp_path, mode="minimum")
    with pytest.raises(ParameterError, match="'search' parameter of tune_pipeline must be a str"):
        _sweep(tmp_path, search="bayes")
    with pytest.raises(ConfigError, match="grid_search.*optuna"):
        _sweep(
            tmp_path, space={"mdncalibrator__lr": tune.grid_search([1e-3, 1e-2])}, search="optuna"
        )
    with pytest.raises(ConfigError, match="figure_of_merit needs"):
        _sweep(tmp_path, figure_of_merit={"bins": {"pt_true": [20, 100]}})
    with pytest.raises(DataError, match="X_val and y_val"):
        _sweep(tmp_path, X_val=pd.DataFrame({"e_reco": [1.0]}))
    with pytest.raises(ConfigError, match="DataFrame"):
        tune_pipeline(mdn_pipeline(), LR, np.ones((50, 4)), np.ones(50), mlflow=True)
    assert not (tmp_path / "sweeps").exists()


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("scheduler", "hyperband", "a str among"),
        ("num_samples", 0, r"range \[1, inf\)"),
        ("grace_period", 0, r"range \[1, inf\)"),
        ("checkpoint_every", -1, r"range \[0, inf\)"),
        ("validation_fraction", 1.0, r"range \(0.0, 1.0\)"),
        ("max_concurrent_trials", 0, r"range \[1, inf\)"),
        ("seed", -1, r"range \[0, inf\)"),
        ("resume", "yes", "an instance of 'bool'"),
    ],
)
def test_bad_option_values_are_parameter_errors(tmp_path, option, value, expected):
    with pytest.raises(ParameterError, match=f"'{option}' parameter of tune_pipeline .*{expected}"):
        _sweep(tmp_path, **{option: value})
    assert not (tmp_path / "sweeps").exists()


@pytest.mark.parametrize(
    ("resources", "match"),
    [
        ({"cpu": 0}, r"resources_per_trial\['cpu'\].* \(0.0, inf\)\. Got 0 instead"),
        ({"cpu": True}, r"resources_per_trial\['cpu'\].* Got True instead"),
        ({"cpu": "2"}, r"resources_per_trial\['cpu'\].* Got '2' instead"),
        ({"gpu": float("nan")}, r"resources_per_trial\['gpu'\].* Got nan instead"),
        ({"gpu": 1.5}, r"resources_per_trial\['gpu'\] above 1 must be a whole number"),
        ({"gpus": 1}, r"unknown key\(s\) \['gpus'\]"),
    ],
)
def test_bad_resources_are_parameter_errors(resources, match):
    with pytest.raises(ParameterError, match=match):
        parse_resources(resources)
    assert parse_resources({"gpu": 2}) == {"cpu": 1.0, "gpu": 2.0}


def test_an_empty_or_unnamed_sweep_is_a_parameter_error(tmp_path):
    X, y = pd.DataFrame({"e_reco": [1.0, 2.0]}), np.ones(2)
    with pytest.raises(ParameterError, match="'param_space' parameter .* non-empty"):
        tune_pipeline(mdn_pipeline(), {}, X, y)
    with pytest.raises(ParameterError, match="'metric' parameter .* reported metric"):
        tune_pipeline(mdn_pipeline(), LR, X, y, metric="")


def test_gpus_on_a_cluster_without_any_is_a_clear_error(tmp_path, ray_cluster):
    if ray_cluster.cluster_resources().get("GPU", 0):
        pytest.skip("this Ray cluster has GPUs")
    with pytest.raises(ConfigError, match="no GPU.*wait forever"):
        _sweep(tmp_path, resources_per_trial={"cpu": 1, "gpu": 0.5})
    with pytest.raises(ConfigError, match="cpu=8 per trial"):
        _sweep(tmp_path, resources_per_trial={"cpu": 8})


def test_device_of_a_trial():
    assert trial_device(0) == "cpu"
    with mock.patch("torch.cuda.is_available", return_value=True):  # the only mock: a GPU
        assert trial_device(0.25) == "cuda"
    with (
        mock.patch("torch.cuda.is_available", return_value=False),
        pytest.raises(ConfigError, match="no CUDA"),
    ):
        trial_device(1)


def test_tuple_choices_survive_optuna():
    from ray.tune.search import sample

    space = {"m__module__hidden_sizes": tune.choice([(8,), (16, 16)]), "m__lr": tune.uniform(0, 1)}
    encoded, decoder = encode_space(space, "optuna", sample)
    assert encoded["m__module__hidden_sizes"].categories == ["(8,)", "(16, 16)"]
    assert decode({"m__module__hidden_sizes": "(16, 16)", "m__lr": 0.5}, decoder) == {
        "m__module__hidden_sizes": (16, 16),
        "m__lr": 0.5,
    }
    assert encode_space(space, "random", sample)[1] == {}


def test_history_metrics_keep_numbers_only():
    row = {
        "epoch": 3,
        "train_loss": np.float32(0.25),
        "valid_loss_best": np.bool_(True),
        "batches": [{}],
    }
    assert history_metrics(row) == {"epoch": 3, "train_loss": 0.25}
