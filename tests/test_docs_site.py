"""The documentation site: every page in the navigation, a strict build, and every
example file a page cites present."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
EXAMPLE_PATH = re.compile(r"\bexamples/[A-Za-z0-9_.\-/]*[A-Za-z0-9_\-/]")
HAS_MKDOCS = all(
    importlib.util.find_spec(m) is not None for m in ("mkdocs", "material", "mkdocstrings")
)
needs_mkdocs = pytest.mark.skipif(
    not HAS_MKDOCS, reason="mkdocs-material and mkdocstrings not installed (the docs extra)"
)


def _nav_pages(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [page for item in node for page in _nav_pages(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return []


def _config() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return data


def test_the_navigation_covers_every_page_once() -> None:
    pages = _nav_pages(_config()["nav"])
    on_disk = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    not_in_nav = sorted(set(on_disk) - set(pages))
    assert not not_in_nav, f"add these pages to the nav in mkdocs.yml: {not_in_nav}"
    missing = sorted(set(pages) - set(on_disk))
    assert not missing, f"the nav in mkdocs.yml names pages that do not exist: {missing}"
    assert len(pages) == len(set(pages))


def test_the_api_reference_covers_every_public_package() -> None:
    packages = sorted(
        f"collectrules.{p.parent.name}"
        for p in (ROOT / "src" / "collectrules").glob("*/__init__.py")
        if p.parent.name not in ("cli", "policies", "schema")
    )
    text = "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "api").glob("*.md"))
    documented = set(re.findall(r"^::: (\S+)", text, re.M))
    missing = [pkg for pkg in packages if not any(d.startswith(pkg) for d in documented)]
    assert not missing


def _cited_examples() -> list[tuple[str, str]]:
    found = []
    for path in [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]:
        for match in EXAMPLE_PATH.findall(path.read_text(encoding="utf-8")):
            found.append((path.relative_to(ROOT).as_posix(), match.rstrip("/.")))
    return found


def test_the_scan_finds_example_paths() -> None:
    assert EXAMPLE_PATH.findall("see `examples/impact/stricter.toml`.") == [
        "examples/impact/stricter.toml"
    ]
    assert len(_cited_examples()) > 5


@pytest.mark.parametrize(("page", "example"), _cited_examples(), ids=lambda v: str(v))
def test_every_example_file_a_page_cites_exists(page: str, example: str) -> None:
    assert (ROOT / example).exists(), f"{page} cites {example}, which does not exist"


def _build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(config),
         "-d", str(site)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip


@needs_mkdocs
def test_the_site_builds_strictly_and_a_broken_reference_fails(tmp_path: Path) -> None:
    result = _build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    engine_page = (tmp_path / "site" / "api" / "engine" / "index.html").read_text("utf-8")
    assert "decide_many" in engine_page  # generated from the docstrings
    # The same site, with one reference to an object that does not exist.
    copy = tmp_path / "copy"
    shutil.copytree(DOCS, copy / "docs")
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    page = copy / "docs" / "api" / "engine.md"
    page.write_text(page.read_text("utf-8") + "\n::: collectrules.engine.NoSuchThing\n")
    broken = _build(copy / "mkdocs.yml", tmp_path / "broken")
    assert broken.returncode != 0
    assert "NoSuchThing" in broken.stderr + broken.stdout
