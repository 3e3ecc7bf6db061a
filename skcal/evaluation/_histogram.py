"""Until skcal.inversion imports it from skcal.response (private path, then removed)."""

from skcal.response._histogram import ResponseHistogram

__all__ = ["ResponseHistogram"]
