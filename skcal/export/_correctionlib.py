"""The standard chain as a correctionlib CorrectionSet: one correction per stage, compounded.

Each stage becomes one correction (a GSC, one per variable) whose output is that
stage's response ``R_stage = 1 / factor`` at the jet's current momentum; a compound
correction divides the momentum inputs by each output in turn (``input_op="/"``, the
stage's scaling) and multiplies the outputs (``output_op="*"``), so that it returns
the response of the uncalibrated jet, the pipeline's ``predict``:
``E_calib = E_reco / calibration.evaluate(...)``.

The policies of ``predict`` carry over: a condition beyond its bins uses the outermost
bin (``flow="clamp"``), a jet beyond a cell's inversion grid gets the grid's end value
(two constant bins outside the grid), a borrowed cell has its source's curve, the
pile-up factor is floored at ``min_scale``. One function per stage translates its
fitted attributes (:func:`pileup_correction`, :func:`inversion_correction`,
:func:`gsc_corrections`), so that a change of a stage changes one function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skcal._optional import import_optional
from skcal.exceptions import ExportError
from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset
from skcal.inversion._gsc import STAGE_SUFFIX
from skcal.inversion._ni_params import resolve_quantity
from skcal.inversion._stage import check_momentum

__all__ = ["build_correctionset", "gsc_corrections", "inversion_correction", "pileup_correction"]

#: Half-width (in log of the quantity) of the constant bins beyond an inversion grid.
_BEYOND = 1.0e3
_INTERP = "[0]*(x-[1])+[2]"  # numpy.interp inside one grid interval
_ABS = "abs_"


@dataclass
class StageCorrection:
    """One correction of the stack, the columns it reads and those its stage scales."""

    data: dict[str, Any]
    reads: list[str]
    scales: tuple[str, ...]
    formulas: list[dict[str, Any]] = field(default_factory=list)

    def correction(self, description: str) -> dict[str, Any]:
        out = {
            "name": self.data["name"],
            "description": description,
            "version": 1,
            "inputs": [{"name": c, "type": "real"} for c in self.reads],
            "output": {"name": "response", "type": "real", "description": "R of this stage"},
            "data": self.data["node"],
        }
        if self.formulas:
            out["generic_formulas"] = self.formulas
        return out


def _name(spec: Any, stage: str, role: str) -> str:
    if not isinstance(spec, str):
        raise ExportError(
            f"step {stage!r} reads its {role} by position ({spec!r}); correctionlib names "
            "its inputs: fit the chain on a DataFrame with named columns"
        )
    return spec


def _formula(expression: str, variables: Sequence[str], parameters: Sequence[float] = ()) -> Any:
    node: dict[str, Any] = {
        "nodetype": "formula",
        "expression": expression,
        "parser": "TFormula",
        "variables": list(variables),
    }
    if len(parameters):
        node["parameters"] = [float(p) for p in parameters]
    return node


class _Columns:
    """Resolves ``abs_<col>`` to ``|col|`` where the jet table has no such column."""

    def __init__(self, table: Sequence[str]) -> None:
        self.table = set(table)

    def base(self, spec: str) -> tuple[str, bool]:
        if spec.startswith(_ABS) and spec not in self.table:
            return spec[len(_ABS) :], True
        return spec, False


def _binned(
    columns: _Columns, condition: Sequence[tuple[str, np.ndarray]], content: list[Any]
) -> Any:
    """Bins in the condition columns (clamped), ``content`` C-ordered; |x| transforms."""
    if not condition:
        return content[0]
    names = [columns.base(spec) for spec, _ in condition]
    edges = [[float(e) for e in edges] for _, edges in condition]
    if len(condition) == 1:
        node: Any = {
            "nodetype": "binning",
            "input": names[0][0],
            "edges": edges[0],
            "content": content,
            "flow": "clamp",
        }
    else:
        node = {
            "nodetype": "multibinning",
            "inputs": [n for n, _ in names],
            "edges": edges,
            "content": content,
            "flow": "clamp",
        }
    for name, absolute in dict(names).items():
        if absolute:
            node = {
                "nodetype": "transform",
                "input": name,
                "rule": _formula("abs(x)", [name]),
                "content": node,
            }
    return node


def _interpolation(quantity: str, grid: np.ndarray, response: np.ndarray) -> Any:
    """``numpy.interp(log q, grid, response)``, constant beyond the grid."""
    slopes = np.diff(response) / np.diff(grid)
    content: list[Any] = [float(response[0])]
    content += [
        {"nodetype": "formularef", "index": 0, "parameters": [float(s), float(x), float(f)]}
        for s, x, f in zip(slopes, grid[:-1], response[:-1])
    ]
    content.append(float(response[-1]))
    edges = [float(grid[0] - _BEYOND), *map(float, grid), float(grid[-1] + _BEYOND)]
    binning = {
        "nodetype": "binning",
        "input": quantity,
        "edges": edges,
        "content": content,
        "flow": "clamp",
    }
    rule = _formula("log(x)", [quantity])
    return {"nodetype": "transform", "input": quantity, "rule": rule, "content": binning}


def inversion_correction(
    name: str, stage: NumericalInversion, columns: _Columns
) -> StageCorrection:
    """A NumericalInversion (or one GSC step): R from its inversion grid per condition cell."""
    quantity = _name(resolve_quantity(stage.get_params(deep=False)), name, "quantity")
    condition = [
        (_name(spec, name, "condition"), np.asarray(edges, dtype=np.float64))
        for (spec, _), edges in zip(stage._condition(), stage.condition_edges_)
    ]
    cells = [
        _interpolation(quantity, stage.log_reco_grid_[c], stage.response_grid_[c])
        for c in range(stage.log_reco_grid_.shape[0])
    ]
    reads = list(dict.fromkeys([*(columns.base(s)[0] for s, _ in condition), quantity]))
    formula = _formula(_INTERP, [quantity])
    return StageCorrection(
        {"name": name, "node": _binned(columns, condition, cells)},
        reads,
        tuple(_name(m, name, "momentum") for m in check_momentum(stage.momentum)),
        [formula],
    )


def pileup_correction(name: str, stage: PileupOffset) -> StageCorrection:
    """A PileupOffset: ``R = 1 / clip((pT - rho*A - alpha*(NPV - 1) - beta*mu) / pT,
    min_scale, max_scale)`` per |eta| bin."""
    pt, eta = _name(stage.pt, name, "pt"), _name(stage.eta, name, "eta")
    optional = {k: getattr(stage, k) for k in ("rho", "area", "npv", "mu")}
    cols = {k: None if v is None else _name(v, name, k) for k, v in optional.items()}
    variables = [pt]
    terms = "x"
    letters = iter("yzt")
    if cols["rho"] is not None and cols["area"] is not None:
        variables.append(cols["rho"])  # rho * area, by the transform below
        terms += f"-{next(letters)}"
    if cols["npv"] is not None:
        variables.append(cols["npv"])
        terms += f"-[0]*({next(letters)}-1)"
    if cols["mu"] is not None:
        variables.append(cols["mu"])
        terms += f"-[1]*{next(letters)}"
    expression = f"1/min(max(({terms})/x,[2]),[3])"
    content = [
        _formula(expression, variables, [a, b, float(stage.min_scale), float(stage.max_scale)])
        for a, b in zip(stage.alpha_, stage.beta_)
    ]
    node: Any = {
        "nodetype": "binning",
        "input": eta,
        "edges": [float(e) for e in stage.abs_eta_edges_],
        "content": content,
        "flow": "clamp",
    }
    node = {
        "nodetype": "transform",
        "input": eta,
        "rule": _formula("abs(x)", [eta]),
        "content": node,
    }
    reads = [pt, eta]
    if cols["rho"] is not None and cols["area"] is not None:
        rule = _formula("x*y", [cols["rho"], cols["area"]])
        node = {"nodetype": "transform", "input": cols["rho"], "rule": rule, "content": node}
        reads += [cols["rho"], cols["area"]]
    reads += [c for c in (cols["npv"], cols["mu"]) if c is not None]
    momentum = tuple(_name(m, name, "momentum") for m in check_momentum(stage.momentum))
    return StageCorrection({"name": name, "node": node}, reads, momentum)


def gsc_corrections(
    name: str, stage: GlobalSequentialCalibration, columns: _Columns
) -> list[StageCorrection]:
    """A GSC: one inversion per variable, in the order they are applied.

    A ``pt_fractions`` variable is binned relative to the jet pT of its stage: the
    compound keeps the scale of the corrections so far in the scale column (an input,
    1 for an uncalibrated jet, rescaled by every stage) and a transform divides the
    stored variable by it.
    """
    out = []
    scale = stage._scalespec_name()
    for step in stage.steps_:
        binned = str(step._condition()[-1][0])
        corr = inversion_correction(f"{name}_{binned}", step, columns)
        if binned.endswith(STAGE_SUFFIX):
            stored = binned[: -len(STAGE_SUFFIX)]
            corr.data["node"] = {
                "nodetype": "transform",
                "input": stored,
                "rule": _formula("x/y", [stored, scale]),
                "content": _renamed(corr.data["node"], binned, stored),
            }
            reads = [stored if c == binned else c for c in corr.reads]
            corr.reads = list(dict.fromkeys([*reads, scale]))
        out.append(corr)
    return out


def _renamed(node: Any, old: str, new: str) -> Any:
    """``node`` with every binning input ``old`` read as ``new``."""
    if isinstance(node, list):
        return [_renamed(n, old, new) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _renamed(v, old, new) for k, v in node.items()}
    if out.get("input") == old:
        out["input"] = new
    if isinstance(out.get("inputs"), list):
        out["inputs"] = [new if i == old else i for i in out["inputs"]]
    return out


def _stage_corrections(name: str, step: Any, columns: _Columns) -> list[StageCorrection]:
    if isinstance(step, PileupOffset | NumericalInversion | GlobalSequentialCalibration):
        if not step.__sklearn_is_fitted__():
            raise ExportError(f"step {name!r} is not fitted: fit the pipeline first")
    if isinstance(step, PileupOffset | NumericalInversion | GlobalSequentialCalibration):
        if isinstance(step, PileupOffset):
            corrections = [pileup_correction(name, step)]
        elif isinstance(step, GlobalSequentialCalibration):
            corrections = gsc_corrections(name, step, columns)
        else:
            corrections = [inversion_correction(name, step, columns)]
        if step.scale_column is not None:  # the stage rescales it, as the compound does
            for corr in corrections:
                corr.scales = (*corr.scales, str(step.scale_column))
        return corrections
    raise ExportError(
        f"step {name!r} ({type(step).__name__}) cannot be exported to correctionlib: "
        "to_correctionlib exports the standard chain (PileupOffset, NumericalInversion, "
        "GlobalSequentialCalibration); neural calibrators go to ONNX (to_onnx)"
    )


def _check_updates(stack: list[StageCorrection]) -> list[str]:
    """The inputs that the compound rescales; refuse a chain it cannot express.

    The compound divides every rescaled input by every stage's output, so a column
    that a stage reads must have been scaled by every stage before it, or by none.
    """
    updated = list(dict.fromkeys(c for s in stack for c in s.scales))
    for i, stage in enumerate(stack):
        for column in stage.reads:
            if column in updated:
                skipped = [s.data["name"] for s in stack[:i] if column not in s.scales]
                if skipped:
                    raise ExportError(
                        f"step {stage.data['name']!r} reads {column!r}, which some earlier "
                        f"stages scale and {skipped} do not: a correctionlib compound scales "
                        "the same inputs at every stage; give the stages the same momentum"
                    )
    return updated


def _refuse_networks(steps: list[tuple[str, Any]]) -> None:
    """A neural calibrator has no correctionlib form: say so, and where it does go."""
    for name, step in steps:
        if type(step).__module__.startswith("skcal.neural"):
            raise ExportError(
                f"step {name!r} ({type(step).__name__}) cannot be exported to correctionlib: "
                "it is a neural network, which correctionlib cannot express (a "
                "CorrectionSet holds binned, categorical and formula "
                "corrections, with no matrix products, activations or mode search); export "
                "the pipeline to ONNX with to_onnx (skcal export -o calib.onnx) instead"
            )


def build_correctionset(steps: list[tuple[str, Any]], name: str = "calibration") -> Any:
    """The validated ``correctionlib.schemav2.CorrectionSet`` of a fitted chain."""
    schema = import_optional("correctionlib.schemav2", purpose="skcal.export.to_correctionlib")
    if not steps:
        raise ExportError("the pipeline has no steps to export")
    _refuse_networks(steps)
    table = [str(c) for c in getattr(steps[0][1], "feature_names_in_", [])]
    columns = _Columns(table)
    stack: list[StageCorrection] = []
    for step_name, step in steps:
        stack += _stage_corrections(step_name, step, columns)
    updated = _check_updates(stack)
    inputs = list(dict.fromkeys(c for s in stack for c in s.reads))
    corrections = [
        s.correction(f"skcal {s.data['name']}: the response of this stage") for s in stack
    ]
    compound = {
        "name": name,
        "description": "the response of the uncalibrated jet (skcal predict): "
        "E_calib = E_reco / response",
        "inputs": [{"name": c, "type": "real"} for c in inputs],
        "output": {"name": "response", "type": "real"},
        "inputs_update": [c for c in updated if c in inputs],
        "input_op": "/",
        "output_op": "*",
        "stack": [s.data["name"] for s in stack],
    }
    return schema.CorrectionSet.model_validate(
        {
            "schema_version": 2,
            "description": "exported by skcal.export.to_correctionlib",
            "corrections": corrections,
            "compound_corrections": [compound],
        }
    )
