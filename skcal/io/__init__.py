"""Reading ROOT files (TTree and RNTuple) into jet tables, in memory or as Dask.

:func:`read_jets` reads flat trees of matched jets and per-event collections (CMS
NanoAOD, ATLAS PHYSLITE, or any file described by a :class:`JetMapping`), matches reco to
truth jets (:class:`IndexMatch`, :class:`DeltaRMatch`) and returns the jet table of
docs/design.md section 3.
"""

from skcal.io._expr import BinOp, Branch, Const, Expr
from skcal.io._functions import At, Clip, Count, Energy, Flavour, InnerSum
from skcal.io._mapping import JetMapping
from skcal.io._matching import DeltaRMatch, IndexMatch
from skcal.io._presets import NANOAOD, PHYSLITE, PRESETS
from skcal.io._read import ReadSummary, read_jets
from skcal.io._write import write_root

__all__ = [
    "NANOAOD",
    "PHYSLITE",
    "PRESETS",
    "At",
    "BinOp",
    "Branch",
    "Clip",
    "Const",
    "Count",
    "DeltaRMatch",
    "Energy",
    "Expr",
    "Flavour",
    "IndexMatch",
    "InnerSum",
    "JetMapping",
    "ReadSummary",
    "read_jets",
    "write_root",
]
