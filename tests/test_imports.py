"""What importing mailprobe and running a probe load, and that the lazy names agree."""

from __future__ import annotations

import ast
import importlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mailprobe
from mailprobe import _log, _tls

INIT = Path(mailprobe.__file__)


def _run(code: str) -> dict[str, object]:
    """Run ``code`` in a new interpreter; it prints one JSON value as its last line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    value: dict[str, object] = json.loads(proc.stdout.splitlines()[-1])
    return value


def test_import_mailprobe_loads_nothing_until_a_name_is_used() -> None:
    loaded = _run(
        "import sys, json, mailprobe\n"
        "before = sorted(m for m in sys.modules if m.startswith('mailprobe') or m in "
        "('attrs', 'logging', 'ssl', 'imaplib', 'smtplib', 'typing_extensions'))\n"
        "mailprobe.InboxSettings\n"
        "after = sorted(m for m in sys.modules if m.startswith('mailprobe.'))\n"
        "print(json.dumps({'before': before, 'after': after}))"
    )
    assert loaded["before"] == ["mailprobe"]
    assert "mailprobe._settings" in loaded["after"]  # the name loads its module


def test_a_failing_probe_loads_neither_logging_nor_certifi() -> None:
    # Nothing imported logging, so nobody can be listening: no record is made. The
    # bundle path is found without importing certifi.
    loaded = _run(
        "import sys, json, mailprobe\n"
        "from mailprobe.testing import ScriptedTransport\n"
        "from mailprobe._tls import verifying_context\n"
        "s = mailprobe.InboxSettings(email='a@example.com', password='pw',\n"
        "    imap=mailprobe.ServerSettings(host='imap.example.com', port=993),\n"
        "    smtp=mailprobe.ServerSettings(host='smtp.example.com', port=587))\n"
        "t = ScriptedTransport(imap_login=mailprobe.ReplyError.imap(\n"
        "    'NO', '[AUTHENTICATIONFAILED] Authentication failed.', command='LOGIN'))\n"
        "r = mailprobe.probe(s, test_recipient='bcc@app.example', transport=t)\n"
        "verifying_context()\n"
        "print(json.dumps({'cause': r.diagnosis.cause, 'modules': sorted(\n"
        "    m for m in ('logging', 'certifi', 'typing_extensions') if m in sys.modules)}))"
    )
    assert loaded["cause"] == "invalid_credentials"
    expected = [] if sys.version_info >= (3, 11) else ["typing_extensions"]
    assert loaded["modules"] == expected


def test_records_are_made_once_logging_is_loaded(caplog: pytest.LogCaptureFixture) -> None:
    assert "logging" in sys.modules  # pytest loaded it
    log = _log.logger()
    assert log is logging.getLogger("mailprobe")
    assert any(isinstance(h, logging.NullHandler) for h in log.handlers)
    with caplog.at_level(logging.INFO, logger="mailprobe"):
        assert _log.enabled(_log.INFO)
        _log.log(_log.INFO, "hello %s", "world")
    record = next(r for r in caplog.records if r.getMessage() == "hello world")
    assert record.name == "mailprobe"
    assert record.pathname == __file__  # the caller's line, not the helper's
    with caplog.at_level(logging.WARNING, logger="mailprobe"):
        assert not _log.enabled(_log.INFO)


def _type_checking_names() -> dict[str, str]:
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
        and node.test.id == "_TYPE_CHECKING"
    )
    names: dict[str, str] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1, ast.dump(node)
        for alias in node.names:
            names[alias.asname or alias.name] = str(node.module)
    return names


def test_the_lazy_table_the_type_checking_imports_and_all_agree() -> None:
    lazy = dict(mailprobe._LAZY)
    assert _type_checking_names() == lazy
    assert set(lazy) == set(mailprobe.__all__) - {"__version__"}
    for name, module in lazy.items():
        value = getattr(mailprobe, name)
        assert value is getattr(importlib.import_module(f"mailprobe.{module}"), name)
    assert set(mailprobe.__all__) <= set(dir(mailprobe))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mailprobe.nope  # noqa: B018


def test_certifi_bundle_is_certifis_own_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import certifi

    assert _tls.certifi_bundle() == certifi.where()

    class Spec:  # a package that is not a plain directory
        origin = "/nonexistent/certifi.zip/certifi/__init__.py"

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: Spec())
    assert _tls.certifi_bundle() == certifi.where()
