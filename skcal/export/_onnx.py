"""A fitted neural pipeline as one ONNX model: raw jet features in, responses out."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

import skcal
from skcal.exceptions import ExportError
from skcal.export._onnx_builder import OPSET, Graph, onnx_module
from skcal.export._onnx_ensemble import ensemble_outputs
from skcal.export._onnx_graph import preprocessing_step
from skcal.export._onnx_heads import density_outputs, energy_mass_outputs, point_outputs
from skcal.export._onnx_mode import MODE_ITERATIONS
from skcal.neural import (
    EnergyMassCalibrator,
    EnsembleCalibrator,
    GDNCalibrator,
    MDNCalibrator,
    PointCalibrator,
)

__all__ = ["build_onnx", "input_unit", "pipeline_steps"]

#: The IR version written (ONNX Runtime 1.15 and later read it).
IR_VERSION = 9
_HEADS = (
    (EnsembleCalibrator, ensemble_outputs),
    (EnergyMassCalibrator, energy_mass_outputs),
    ((GDNCalibrator, MDNCalibrator), density_outputs),
    (PointCalibrator, point_outputs),
)


def pipeline_steps(model: Any) -> list[tuple[str, Any]]:
    """``(name, step)`` of a Pipeline (nested ones flattened), or of a single estimator."""
    if isinstance(model, Pipeline):
        out: list[tuple[str, Any]] = []
        for name, step in model.steps:
            out += pipeline_steps(step) if isinstance(step, Pipeline) else [(name, step)]
        return out
    return [(type(model).__name__.lower(), model)]


def input_unit(name: str) -> str:
    """The unit of a jet-table column (``skcal.columns``): energies in GeV."""
    if name.split("_")[0] in {"e", "pt", "m"}:
        return "GeV"
    return "GeV per unit area" if name == "rho" else "1"


def _names_in(step: Any) -> list[str]:
    names = getattr(step, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    return [f"x{i}" for i in range(int(step.n_features_in_))]


def _head(est: Any) -> Any:
    for kinds, head in _HEADS:
        if isinstance(est, kinds):
            return head
    names = (
        "GDNCalibrator, MDNCalibrator, PointCalibrator, EnergyMassCalibrator, EnsembleCalibrator"
    )
    raise ExportError(
        f"the last step ({type(est).__name__}) cannot be exported to ONNX: to_onnx exports "
        f"skcal's neural calibrators ({names}); the standard chain goes to correctionlib "
        "(to_correctionlib)"
    )


def _metadata(steps: list[tuple[str, Any]], names: list[str], outputs: list[str]) -> dict[str, str]:
    est = steps[-1][1]
    members = list(getattr(est, "members_", []))
    one = members[0] if members else est  # an ensemble's members share these
    feature_range = getattr(one, "feature_range_", None)
    if members and feature_range is not None:  # the range seen by any member
        ranges = np.stack([np.asarray(m.feature_range_) for m in members])
        feature_range = np.stack([ranges[:, 0].min(axis=0), ranges[:, 1].max(axis=0)])
    response_range = getattr(est, "response_range_", None)
    meta: dict[str, Any] = {
        "skcal_version": skcal.__version__,
        "producer": "skcal.export.to_onnx",
        "calibrator": type(est).__name__,
        "steps": [f"{name}: {type(step).__name__}" for name, step in steps],
        "inputs": names,
        "input_units": {n: input_unit(n) for n in names},
        "input_dtype": "float32, one tensor of shape (n_jets,) per input",
        "outputs": outputs,
        "training_space": getattr(one, "training_space_", "response"),
        "mode_space": getattr(one, "mode_space_", "response"),
        "mode_iterations": MODE_ITERATIONS,
        "calibrator_inputs": _names_in(est),
        "feature_range": None if feature_range is None else np.asarray(feature_range).tolist(),
        "response_range": None if response_range is None else np.asarray(response_range).tolist(),
    }
    if members:
        meta["members"] = [type(m).__name__ for m in members]
        meta["sigma_scale"] = float(getattr(est, "sigma_scale_", 1.0))
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}


def build_onnx(model: Any) -> Any:
    """The ``onnx.ModelProto`` of a fitted pipeline (see :func:`skcal.export.to_onnx`)."""
    onnx = onnx_module()
    steps = pipeline_steps(model)
    est = steps[-1][1]
    head = _head(est)
    for _, step in steps:
        if step is not None and step != "passthrough":
            check_is_fitted(step)
    names = _names_in(steps[0][1])
    g = Graph()
    tp = onnx.TensorProto
    columns = [g.op("Unsqueeze", n, g.axes(1)) for n in names]
    x = g.op("Cast", g.op("Concat", *columns, axis=1) if len(columns) > 1 else columns[0], to=11)
    width, current = len(names), names
    for name, step in steps[:-1]:
        x, width = preprocessing_step(g, name, step, x, width)
        if hasattr(step, "get_feature_names_out"):
            current = [str(c) for c in step.get_feature_names_out()]
    wanted = _names_in(est)
    if hasattr(est, "feature_names_in_") and wanted != current:
        missing = [c for c in wanted if c not in current]
        if missing:
            raise ExportError(
                f"{type(est).__name__} was fitted on the columns {missing}, which the steps "
                f"before it do not produce (they produce {current})"
            )
        x = g.op("Gather", x, g.const([current.index(c) for c in wanted], np.int64), axis=1)
    outputs = head(g, est, g.op("Cast", x, to=1))
    final = []
    for out_name, value in outputs.items():
        g.nodes.append(onnx.helper.make_node("Cast", [value], [out_name], to=tp.FLOAT))
        final.append(out_name)
    shape_out: list[Any] = ["n_jets", 2] if isinstance(est, EnergyMassCalibrator) else ["n_jets"]
    graph = onnx.helper.make_graph(
        g.nodes,
        "skcal_calibration",
        [onnx.helper.make_tensor_value_info(n, tp.FLOAT, ["n_jets"]) for n in names],
        [onnx.helper.make_tensor_value_info(n, tp.FLOAT, shape_out) for n in final],
        g.initializers,
    )
    proto = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)], producer_name="skcal"
    )
    proto.ir_version = IR_VERSION
    proto.producer_version = skcal.__version__
    onnx.helper.set_model_props(proto, _metadata(steps, names, final))
    onnx.checker.check_model(proto)
    return proto
