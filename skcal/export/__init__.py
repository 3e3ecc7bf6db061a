"""Deploying a calibration without skcal: ONNX for the networks, correctionlib for the chain."""

from skcal.export._onnx import write_onnx as to_onnx

__all__ = ["to_onnx"]
