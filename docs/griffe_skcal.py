"""Griffe extension for skcal's API reference; the docstrings themselves are not changed.

- Doctest blocks outside an ``Examples`` section render as code. The numpy docstring
  parser makes ``>>>`` lines code only inside an ``Examples`` section, and skcal's
  module docstrings hold short doctests in their prose (they run under
  ``pytest --doctest-modules``); without this, Markdown reads their output
  (``['a', 'b']``) as reference links.
- A class whose docstring is built at run time (``__doc__ = "..." + _COMMON_DOC``, which
  static analysis cannot read) takes the docstring of the imported class.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from typing import Any

from griffe import Class, Docstring, Extension, Object

_EXAMPLE_SECTIONS = {"examples", "example"}


def fence_doctests(text: str) -> str:
    """Wrap each doctest block that is not in an Examples section in a ``pycon`` fence."""
    lines = text.split("\n")
    out: list[str] = []
    section = ""
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence and stripped and nxt and set(nxt) == {"-"} and len(nxt) >= 3:
            section = stripped.lower()  # a numpy section header, underlined with dashes
        if not in_fence and stripped.startswith(">>>") and section not in _EXAMPLE_SECTIONS:
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            out += [f"{indent}```pycon", *block, f"{indent}```"]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _runtime_docstring(cls: Class) -> str | None:
    try:
        obj = getattr(importlib.import_module(cls.module.path), cls.name)
    except (ImportError, AttributeError):
        return None
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else None
    return inspect.cleandoc(doc) if isinstance(doc, str) else None


class SkcalDocstrings(Extension):
    """Runtime class docstrings where the source builds them; fenced bare doctests."""

    def on_class_instance(
        self, *, node: ast.AST | Any, cls: Class, agent: Any, **kwargs: Any
    ) -> None:
        if cls.docstring is None and not cls.name.startswith("_"):
            value = _runtime_docstring(cls)
            if value:
                cls.docstring = Docstring(
                    value,
                    lineno=cls.lineno,
                    endlineno=cls.lineno,
                    parent=cls,
                    parser=getattr(agent, "docstring_parser", None),
                    parser_options=getattr(agent, "docstring_options", None),
                )

    def on_object(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
