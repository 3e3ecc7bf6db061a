"""MkDocs hook: the API reference pages that the nav names but docs/api/ lacks.

A nav entry ``api/<name>.md`` without a file becomes a page that renders the public
API of ``skcal.<name>`` (mkdocstrings, numpy docstrings), so that adding a subpackage
to the reference is one line in ``mkdocs.yml``.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files


def _nav_paths(item: Any) -> list[str]:
    if isinstance(item, str):
        return [item]
    if isinstance(item, list):
        return [p for sub in item for p in _nav_paths(sub)]
    if isinstance(item, dict):
        return [p for sub in item.values() for p in _nav_paths(sub)]
    return []


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for path in _nav_paths(config.nav or []):
        if (
            path.startswith("api/")
            and path.endswith(".md")
            and files.get_file_from_path(path) is None
        ):
            module = "skcal." + path.removeprefix("api/").removesuffix(".md").replace("/", ".")
            files.append(File.generated(config, path, content=f"::: {module}\n"))
    return files
