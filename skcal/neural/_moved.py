"""The former public modules of :mod:`skcal.neural`, kept for one release as shims.

Each shim module's ``__getattr__`` returns the object from its private home with a
FutureWarning naming the one public path (``skcal.neural.<Name>``); models pickled
before the move unpickle through the shims.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["moved_names"]


def moved_names(old: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the former module ``old``.

    Parameters
    ----------
    old : str
        The former module's name, for example ``"skcal.neural.schedule"``.
    homes : mapping of str to str
        For each name that ``old`` exported, the private module that now holds it.
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        if name in importlib.import_module("skcal.neural").__all__:
            message = f"{old}.{name} is deprecated: use skcal.neural.{name}"
        else:
            message = f"{old}.{name} is deprecated and no longer public"
        warnings.warn(
            f"{message} ({old} will be removed in the next release; the public names "
            "are imported from skcal.neural)",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(home), name)

    return __getattr__
