"""Jet samples: the synthetic generator with a known truth, and writing them to ROOT."""

from skcal.datasets.synthetic import BLOCK_SIZE, iter_jets, make_jets
from skcal.io._write import write_root

__all__ = ["BLOCK_SIZE", "iter_jets", "make_jets", "write_root"]
