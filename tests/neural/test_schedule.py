"""Training schedules: the stages' validation, the paper's table 3, and the optimisers."""

from __future__ import annotations

import dataclasses
import math
import sys

import pytest
import torch

from skcal.exceptions import MissingDependencyError, ParameterError
from skcal.neural import PAPER_SCHEDULE, Stage, paper_schedule
from skcal.neural._schedule import as_schedule, make_optimizer

# Table 3 of MLST 5 (2024) 035051: epochs, batch size, learning rate, truncation (E, m).
TABLE_3 = [
    (2, 15_000, 1e-3, (None, None)),
    (2, 25_000, 1e-3, (None, None)),
    (2, 35_000, 1e-3, (4.0, 4.0)),
    (2, 15_000, 1e-3, (3.5, 3.5)),
    (6, 95_000, 1e-3, (3.5, 3.5)),
    (6, 95_000, 1e-3, (3.5, 3.5)),
    (6, 125_000, 1e-3, (3.2, 3.2)),
    (6, 125_000, 1e-3, (3.2, 3.2)),
    (10, 155_000, 5e-4, (3.0, 3.0)),
    (15, 95_000, 1e-5, (3.0, 2.0)),
    (50, 95_000, 1e-5, (1.0, 1.0)),
]


def test_paper_schedule_is_table_3():
    assert len(PAPER_SCHEDULE) == 11 and sum(s.epochs for s in PAPER_SCHEDULE) == 107
    for stage, (epochs, batch, lr, (t_e, t_m)) in zip(PAPER_SCHEDULE, TABLE_3, strict=True):
        assert (stage.epochs, stage.batch_size, stage.lr) == (epochs, batch, lr)
        assert stage.truncation == {"energy": t_e, "mass": t_m}
    assert [s.optimizer for s in PAPER_SCHEDULE] == ["radam"] * 4 + ["diffgrad"] * 7
    assert all(
        s.loss == {"energy": "asymmetric", "mass": "asymmetric"} for s in PAPER_SCHEDULE[:10]
    )
    last = PAPER_SCHEDULE[-1]
    assert last.loss == {"energy": None, "mass": "gaussian"} and last.frozen == ("core", "energy")
    assert all(s.frozen == () for s in PAPER_SCHEDULE[:10])


def test_scaling_keeps_order_and_at_least_one_epoch():
    scaled = paper_schedule(epoch_scale=0.1, batch_scale=0.01)
    assert [s.epochs for s in scaled] == [max(1, round(e * 0.1)) for e, *_ in TABLE_3]
    assert [s.batch_size for s in scaled] == [round(b * 0.01) for _, b, *_ in TABLE_3]
    assert [s.lr for s in scaled] == [s.lr for s in PAPER_SCHEDULE]
    with pytest.raises(ParameterError, match="epoch_scale"):
        paper_schedule(epoch_scale=0)


def test_stage_is_frozen_and_normalised():
    stage = Stage(epochs=1, batch_size=8, lr=1e-3, loss="gaussian", truncation=2)
    assert stage.loss == {"energy": "gaussian", "mass": "gaussian"}
    assert stage.truncation == {"energy": 2.0, "mass": 2.0}
    with pytest.raises(dataclasses.FrozenInstanceError):
        stage.batch_size = 16


@pytest.mark.parametrize(
    "spec, match",
    [
        (
            {"epochs": 1, "batch_size": 8, "lr": 1e-3, "batchsize": 9},
            r"unknown key 'batchsize'; valid keys are \['epochs'",
        ),
        (
            {"epochs": 1, "batch_size": 0, "lr": 1e-3},
            r"'batch_size' parameter of Stage must be an int in the range \[1, inf\)\. Got 0",
        ),
        (
            {"epochs": 1, "batch_size": -5, "lr": 1e-3},
            r"'batch_size' parameter of Stage must be an int in the range \[1, inf\)\. Got -5",
        ),
        (
            {"epochs": 0, "batch_size": 8, "lr": 1e-3},
            r"'epochs' parameter of Stage must be an int in the range \[1, inf\)\. Got 0",
        ),
        (
            {"epochs": True, "batch_size": 8, "lr": 1e-3},
            "'epochs' parameter of Stage must be a number, not a bool",
        ),
        (
            {"epochs": 1, "batch_size": 8, "lr": -1.0},
            r"'lr' parameter of Stage must be a float in the range \(0\.0, inf\)\. Got -1\.0",
        ),
        ({"epochs": 1, "batch_size": 8}, r"missing key\(s\) \['lr'\]"),
        (
            {
                "epochs": 1,
                "batch_size": 8,
                "lr": 1e-3,
                "loss": {"energy": "gaussian", "mas": "gaussian"},
            },
            r"unknown target 'mas'; valid targets are \['energy', 'mass'\]",
        ),
        (
            {"epochs": 1, "batch_size": 8, "lr": 1e-3, "loss": "laplace"},
            "unknown variant 'laplace'",
        ),
        (
            {"epochs": 1, "batch_size": 8, "lr": 1e-3, "loss": {"energy": None, "mass": None}},
            "at least one target",
        ),
        (
            {"epochs": 1, "batch_size": 8, "lr": 1e-3, "truncation": 0.0},
            "truncation for 'energy' must be a positive",
        ),
        (
            {"epochs": 1, "batch_size": 8, "lr": 1e-3, "optimizer": "adagrad"},
            "'optimizer' parameter of Stage must be a str among.*Got 'adagrad'",
        ),
        (
            {"epochs": 1, "batch_size": 8, "lr": 1e-3, "frozen": ("core", "trunk")},
            r"unknown parameter group 'trunk'; valid groups are "
            r"\['core', 'energy', 'mass', 'residual'\]",
        ),
        (
            {
                "epochs": 1,
                "batch_size": 8,
                "lr": 1e-3,
                "loss": {"energy": "gaussian", "mass": None},
                "frozen": ("core", "energy"),
            },
            "leaves no parameter",
        ),
    ],
)
def test_bad_stage_is_refused(spec, match):
    with pytest.raises(ParameterError, match=match):
        Stage.from_dict(spec)


def test_bad_schedule_is_refused():
    for bad in ([], "paper", Stage(1, 8, 1e-3), None):
        with pytest.raises(ParameterError, match="non-empty sequence"):
            as_schedule(bad)
    assert (
        as_schedule([Stage(1, 8, 1e-3), {"epochs": 2, "batch_size": 4, "lr": 1e-2}])[1].epochs == 2
    )


def test_radam_and_an_optimizer_class():
    p = torch.zeros(2, requires_grad=True)
    assert isinstance(make_optimizer("radam", [p], 1e-3), torch.optim.RAdam)
    assert isinstance(make_optimizer(torch.optim.SGD, [p], 1e-3), torch.optim.SGD)
    with pytest.raises(ParameterError, match="unknown optimizer"):
        make_optimizer("lion", [p], 1e-3)


def test_diffgrad_first_step():
    """diffGrad (Dubey et al. 2020) scales Adam's step by the friction coefficient
    sigmoid(|g_t - g_{t-1}|); at the first step g_0 = 0 and Adam's step is lr * sign(g)."""
    p = torch.tensor([1.0, -1.0], requires_grad=True)
    opt = make_optimizer("diffgrad", [p], 0.1)
    p.grad = torch.tensor([2.0, -0.5])
    opt.step()
    expected = torch.tensor([1.0, -1.0]) - 0.1 * torch.sigmoid(
        torch.tensor([2.0, 0.5])
    ) * torch.tensor([1.0, -1.0])
    assert torch.allclose(p.detach(), expected, atol=1e-6)
    # second step: identical gradient -> friction sigmoid(0) = 0.5
    before = p.detach().clone()
    p.grad = torch.tensor([2.0, -0.5])
    opt.step()
    step = (before - p.detach()).abs()
    assert torch.allclose(step, torch.full((2,), 0.1 * 0.5), atol=1e-4)
    assert not math.isclose(
        float(step[0]), float(0.1 * torch.sigmoid(torch.tensor(2.0))), rel_tol=1e-3
    )


def test_diffgrad_without_the_extra_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pytorch_optimizer", None)  # makes the import fail
    with pytest.raises(MissingDependencyError, match="diffGrad optimizer.*pip install"):
        make_optimizer("diffgrad", [torch.zeros(1, requires_grad=True)], 1e-3)
