"""Step sizes of the readers, parsed strictly: a count of entries or a memory size."""

from __future__ import annotations

import re
from numbers import Integral
from typing import Any

from skcal.exceptions import ParameterError

__all__ = ["check_step_size"]

#: A positive memory size as uproot reads it: a number and a unit of bytes.
_MEMORY = re.compile(r"^\s*(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*([kmgtpezy]?i?b)\s*$", re.IGNORECASE)


def check_step_size(value: Any, name: str = "step_size") -> int | str:
    """``value`` if it is a positive number of entries or a memory size, else ParameterError.

    A string of digits is a number of entries; any other string must be a positive
    size with a unit of bytes (``"100 MB"``, ``"1.5 GiB"``, ``"512 kB"``). Nothing is
    ever replaced by a default.

    Examples
    --------
    >>> check_step_size("100 MB"), check_step_size(5000), check_step_size("20000")
    ('100 MB', 5000, 20000)
    >>> check_step_size("lots")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ParameterError: step_size: expected a positive number of entries or a ...
    """
    if isinstance(value, Integral) and not isinstance(value, bool) and int(value) > 0:
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit() and int(text) > 0:
            return int(text)
        match = _MEMORY.match(text)
        if match is not None and float(match.group(1) + (match.group(3) or "")) > 0:
            return value
    raise ParameterError(
        f"{name}: expected a positive number of entries or a memory size such as "
        f"'100 MB', got {value!r}"
    )
