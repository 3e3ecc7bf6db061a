"""A small builder of ONNX graphs: nodes with generated names, constants as initializers.

The translation modules (:mod:`skcal.export._onnx_graph`, :mod:`skcal.export._onnx_heads`)
write ``g.op("Add", a, b)`` and get the name of the output back, so that a formula reads
as a formula. A :class:`Graph` made with ``parent`` (the body of a ``Loop``) puts its
constants into the outermost graph, which ONNX lets a subgraph read by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skcal._optional import import_optional

__all__ = ["OPSET", "Graph", "onnx_module"]

#: The ONNX opset of the exported graphs (Mish and the reductions with ``axes`` inputs
#: need 18; every ONNX Runtime since 1.14 runs it).
OPSET = 18


def onnx_module() -> Any:
    """The ``onnx`` package, or a MissingDependencyError naming the ``export`` extra."""
    return import_optional("onnx", purpose="skcal.export.to_onnx")


class Graph:
    """Nodes, initializers and unique names of one ONNX graph (or subgraph).

    Examples
    --------
    >>> g = Graph()
    >>> y = g.op("Add", g.const(1.0), g.const(2.0))
    >>> len(g.nodes), len(g.initializers)
    (1, 2)
    """

    def __init__(self, parent: Graph | None = None, prefix: str = "") -> None:
        self.parent = parent
        self.prefix = prefix
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0 if parent is None else -1

    def _root(self) -> Graph:
        return self if self.parent is None else self.parent._root()

    def name(self, hint: str) -> str:
        """A fresh value name (unique across the graph and its subgraphs)."""
        root = self._root()
        root._count += 1
        return f"{self.prefix}{hint}_{root._count}"

    def const(self, value: Any, dtype: Any = np.float64, hint: str = "c") -> str:
        """An initializer (in the outermost graph) holding ``value``."""
        onnx = onnx_module()
        root = self._root()
        name = root.name(hint)
        array = np.asarray(value, dtype=dtype)
        root.initializers.append(onnx.numpy_helper.from_array(array, name))
        return name

    def axes(self, *axes: int) -> str:
        """An int64 constant of axes (for Squeeze, Unsqueeze and the reductions)."""
        return self.const(list(axes), np.int64, "axes")

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        """A node with one output; returns the output's name."""
        return self.ops(op_type, list(inputs), 1, **attrs)[0]

    def ops(self, op_type: str, inputs: list[str], n_out: int, **attrs: Any) -> list[str]:
        """A node with ``n_out`` outputs; returns their names."""
        onnx = onnx_module()
        outputs = [self.name(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(onnx.helper.make_node(op_type, inputs, outputs, **attrs))
        return outputs

    # ---- a few compound operations used throughout ---------------------------------
    def clamp(self, x: str, low: str | None = None, high: str | None = None) -> str:
        """``min(max(x, low), high)``, elementwise (``torch.clamp`` and ``np.clip``)."""
        if low is not None:
            x = self.op("Max", x, low)
        if high is not None:
            x = self.op("Min", x, high)
        return x

    def reduce(self, op_type: str, x: str, axis: int, keepdims: bool = False) -> str:
        """``ReduceSum``, ``ReduceMax``, ... over one axis."""
        return self.op(op_type, x, self.axes(axis), keepdims=int(keepdims))

    def column(self, x: str, index: int) -> str:
        """Column ``index`` of a matrix, keeping it 2-D (n, 1)."""
        return self.op("Gather", x, self.const([index], np.int64, "index"), axis=1)

    def columns(self, x: str, start: int, stop: int) -> str:
        """Columns ``start:stop`` of a matrix."""
        i64 = np.int64
        return self.op("Slice", x, self.const([start], i64), self.const([stop], i64), self.axes(1))

    def softplus(self, x: str) -> str:
        """``log(1 + exp(x))`` (ONNX Runtime's kernel is stable in float32 and float64)."""
        return self.op("Softplus", x)
