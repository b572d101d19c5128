"""Docs that are generated stay in step with the code, and the public API stays tidy."""

from __future__ import annotations

import inspect
import os
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


def test_every_public_name_is_in_the_api_reference() -> None:
    reference = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [
        n for n in mailprobe.__all__ if n != "__version__" and f"mailprobe.{n}" not in reference
    ]
    assert missing == []


def test_result_schema_is_current_and_results_validate() -> None:
    import json

    import jsonschema

    from mailprobe import CertificateError, ReplyError
    from mailprobe.testing import Replies, ScriptedTransport

    from .conftest import scripted_settings

    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_schema.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    schema = json.loads((ROOT / "docs" / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    outcomes = [
        mailprobe.probe(
            scripted_settings(),
            transport=ScriptedTransport(),
            test_recipient="bcc@app.example",
            transcript=True,
        ),
        mailprobe.probe(
            scripted_settings(),
            transport=ScriptedTransport(
                imap_connect=CertificateError("x", reason="expired"),
                smtp_send=ReplyError.smtp(553, "5.7.1 not owned by user", command="RCPT"),
            ),
            confirm_delivery=True,
            capacity=2,
        ),
        mailprobe.probe(
            scripted_settings(
                allow_untrusted_certificate=True,
                smtp=mailprobe.ServerSettings(host="smtp.example.com", port=2525),
            ),
            transport=ScriptedTransport(imap_connect=Replies(CertificateError("x"), None)),
            checks=[mailprobe.Check(name="note", run=lambda ctx: ctx.record(seen=[1, "a"]))],
            test_recipient="bcc@app.example",
            suggest=True,
        ),
    ]
    assert outcomes[-1].warnings and outcomes[-1].checks
    for result in outcomes:
        jsonschema.validate(json.loads(json.dumps(result.to_dict())), schema)
    broken = outcomes[0].to_dict()
    broken["stages"][0]["status"] = "maybe"
    try:
        jsonschema.validate(broken, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("the schema accepted an unknown status")
    wrong = outcomes[0].to_dict()
    wrong["stages"][0]["details"]["port"] = "993"
    try:
        jsonschema.validate(wrong, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("the schema accepted a port that is not a number")


def test_docs_site_builds_strictly() -> None:
    mkdocs = Path(sys.executable).parent / "mkdocs"
    if not mkdocs.exists():
        raise AssertionError("mkdocs is part of the test extras; run scripts/bootstrap.sh")
    proc = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(ROOT / ".pytest_cache" / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_library_logs_through_a_null_handler() -> None:
    import logging

    from mailprobe import _log

    assert _log.logger() is logging.getLogger("mailprobe")
    handlers = logging.getLogger("mailprobe").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


TYPED_EXAMPLES = [
    *sorted(str(p) for p in (ROOT / "docs" / "examples").glob("*.py")),
    str(ROOT / "examples" / "sent_folder_check.py"),
]


def test_the_docs_examples_pass_mypy_strict() -> None:
    # The quickstart's and the custom-check page's code, as the docs include it.
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *TYPED_EXAMPLES],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_quickstart_code_runs_offline() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Connected\n")
    assert '"imap.port": "must be a whole number' in proc.stdout


def test_docs_include_the_checked_examples() -> None:
    quickstart = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    for section in ("settings", "prober", "probe", "events"):
        assert f'--8<-- "docs/examples/quickstart.py:{section}"' in quickstart
    custom = (ROOT / "docs" / "prober.md").read_text(encoding="utf-8")
    assert '--8<-- "examples/sent_folder_check.py' in custom


def test_the_readme_reads_right_on_the_package_index() -> None:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", readme)
    assert links and all(link.startswith("https://") for link in links), links
    assert "bash scripts/demo.sh" in readme and "bash scripts/test.sh" in readme
    assert "## For contributors" in readme and "mkdocs serve" in readme
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
