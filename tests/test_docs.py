"""Docs that are generated stay in step with the code, and the public API stays tidy."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import mailprobe

ROOT = Path(__file__).resolve().parent.parent


def test_error_catalogue_is_generated_from_the_rules() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_errors_doc.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    for rule in mailprobe.builtin_rules():
        assert f"`{rule.id}`" in text


def test_public_api_is_sorted_complete_and_documented() -> None:
    names = [n for n in mailprobe.__all__ if n != "__version__"]
    assert names == sorted(names)
    assert all(not n.startswith("_") for n in names)
    public = {n for n in dir(mailprobe) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(mailprobe, n)).__name__ == "module"}
    assert public - modules == set(names)
    for name in names:
        obj = getattr(mailprobe, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert (obj.__doc__ or "").strip(), f"{name} has no docstring"
