"""The README and docs run: every ```python block executes, in order, per file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": f"doc_{path.stem}"}
    for number, block in enumerate(BLOCK.findall(path.read_text(encoding="utf-8")), start=1):
        code = compile(block, f"{path.name}[block {number}]", "exec")
        exec(code, namespace)  # the project's own documentation, run as a test


def test_docs_exist() -> None:
    for name in ("tutorial.md", "signals.md", "conditions.md", "decision-schema.md", "engine.md"):
        assert (ROOT / "docs" / name).is_file()


def test_signal_doc_lists_every_kind() -> None:
    from collectrules import load_policy

    text = (ROOT / "docs" / "signals.md").read_text(encoding="utf-8")
    for kind in load_policy("default").signals:
        assert f"`{kind}`" in text
