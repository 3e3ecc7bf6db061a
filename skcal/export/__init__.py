"""Deploying a calibration without skcal: ONNX for the networks, correctionlib for the chain.

- :func:`to_onnx`: a fitted neural pipeline (skcal's transformers or scikit-learn's
  StandardScaler, then a GDN, MDN, point or energy-mass calibrator, or a deep ensemble
  of GDN, MDN or point members) as one ONNX graph, raw jet features in (float32, one
  input per column, named as ``feature_names_in_``), the response out (and ``sigma``
  for density calibrators and ensembles); ONNX Runtime runs it.
- :func:`to_correctionlib`: the standard chain (PileupOffset, NumericalInversion,
  GlobalSequentialCalibration) as a correctionlib CorrectionSet whose compound
  correction ``calibration`` returns the chain's ``predict``.

Both need the ``export`` extra (``pip install 'skcal[export]'``); a step without a
translation is an :class:`~skcal.exceptions.ExportError` naming it and the reason.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from skcal.export._correctionlib import build_correctionset
from skcal.export._onnx import build_onnx, pipeline_steps

__all__ = ["to_correctionlib", "to_onnx"]


def to_onnx(model: Any, path: str | Path | None = None) -> Any:
    """Export a fitted neural pipeline to one ONNX model.

    Parameters
    ----------
    model : Pipeline or neural calibrator
        Fitted. Supported steps: ``LogTransformer``, ``EtaAnnotation``,
        ``SymmetricScaler``, scikit-learn's ``StandardScaler`` (and ``"passthrough"``),
        then a ``GDNCalibrator``, ``MDNCalibrator``, ``PointCalibrator``,
        ``EnergyMassCalibrator`` or ``EnsembleCalibrator`` (of any of the first three).
    path : str or Path, optional
        Where to write the model (``.onnx``).

    Returns
    -------
    onnx.ModelProto
        Inputs: one float32 tensor of shape ``(n_jets,)`` per column of the first
        step's ``feature_names_in_``. Outputs (float32): ``response`` (the mode; the
        calibrator's ``predict``, bounded to ``response_range_`` as ``predict`` bounds
        it) and, for density calibrators, ``sigma`` (``return_std``); shape
        ``(n_jets, 2)`` (energy, mass) for the energy-mass network. An ensemble's
        graph runs every member and combines them as its ``predict`` does:
        ``response`` (the mode of the equal-weight mixture of the members' densities;
        the mean of point members), ``sigma`` (``sigma_tot``), ``sigma_stat`` and
        ``sigma_syst`` (``predict_uncertainty``). Metadata
        (``metadata_props``): the skcal version, the inputs and their units, the
        training space, ``feature_range`` and ``response_range`` (JSON).

    Raises
    ------
    ExportError
        A step without an ONNX translation (named, with the reason).
    MissingDependencyError
        Without the ``export`` extra.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.neural import GDNCalibrator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(256, 2)).astype("float32")
    >>> gdn = GDNCalibrator(max_epochs=1, random_state=0, module__hidden_sizes=(8,))
    >>> proto = to_onnx(gdn.fit(X, 1.0 + 0.1 * X[:, 0]))
    >>> [i.name for i in proto.graph.input], [o.name for o in proto.graph.output]
    (['x0', 'x1'], ['response', 'sigma'])
    """
    proto = build_onnx(model)
    if path is not None:
        Path(path).write_bytes(proto.SerializeToString())
    return proto


def to_correctionlib(model: Any, path: str | Path | None = None, name: str = "calibration") -> Any:
    """Export a fitted standard chain to a correctionlib CorrectionSet.

    Parameters
    ----------
    model : Pipeline or stage
        Fitted ``PileupOffset``, ``NumericalInversion`` and ``GlobalSequentialCalibration``
        steps, in any number and order, fitted on a DataFrame (named columns).
    path : str or Path, optional
        Where to write the JSON (``.json``, or ``.json.gz`` compressed).
    name : str, default="calibration"
        The name of the compound correction.

    Returns
    -------
    correctionlib.schemav2.CorrectionSet
        Validated against correctionlib's schema: one correction per stage (a GSC, one
        per variable) returning that stage's response, and the compound ``name``,
        whose inputs are the jet-table columns that the chain reads and whose output
        is the chain's ``predict``, jets outside the binned ranges included.

    Raises
    ------
    ExportError
        A step that is not a stage of the chain (a neural calibrator: correctionlib
        cannot express a network, the error says to use :func:`to_onnx`), a column
        given by position, or stages that scale different momentum columns.

    Examples
    --------
    >>> from skcal.datasets import make_jets
    >>> from skcal.inversion import NumericalInversion
    >>> jets = make_jets(20_000, random_state=0)
    >>> ni = NumericalInversion(condition={"abs_eta": [0, 1.5, 4.5]}, n_grid=16)
    >>> ni = ni.fit(jets[["e_reco", "pt_reco", "eta"]], jets.e_reco / jets.e_true)
    >>> compound = to_correctionlib(ni).compound_corrections[0]
    >>> compound.name, [i.name for i in compound.inputs]
    ('calibration', ['eta', 'e_reco'])
    """
    cset = build_correctionset(pipeline_steps(model), name)
    if path is not None:
        text = cset.model_dump_json(exclude_unset=True).encode()
        Path(path).write_bytes(gzip.compress(text) if str(path).endswith(".gz") else text)
    return cset
