"""Write docs/schema.json, the JSON Schema of ProbeResult.to_dict(), from the package's enums.

python scripts/gen_schema.py          # rewrite docs/schema.json
python scripts/gen_schema.py --check  # exit 1 if docs/schema.json is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import mailprobe

OUT = Path(__file__).resolve().parent.parent / "docs" / "schema.json"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


def schema() -> dict[str, Any]:
    text = {"type": "string"}
    strings = {"type": "array", "items": text}
    server = _object(
        {
            "host": text,
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "security": {"enum": [s.value for s in mailprobe.Security]},
        }
    )
    message = _object({"id": text, "params": {"type": "object", "additionalProperties": text}})
    diagnosis = _object(
        {
            "category": {"enum": [c.value for c in mailprobe.ErrorCategory]},
            "cause": text,
            "title": text,
            "hints": strings,
            "links": strings,
            "temporary": {"type": "boolean"},
            "provider": _nullable(text),
            "suggestion": _nullable(server),
            "rule_id": text,
            "summary": text,
            "summary_message": _nullable(message),
            "hint_messages": {"type": "array", "items": message},
            "evidence": _nullable(
                _object(
                    {
                        "rule_id": text,
                        "matched": {"type": "object", "additionalProperties": text},
                        "source": text,
                    }
                )
            ),
        }
    )
    error = _object(
        {
            "type": text,
            "message": text,
            "command": _nullable(text),
            "code": _nullable({"type": "integer"}),
            "enhanced_status": _nullable(text),
            "response_code": _nullable(text),
            "server_text": _nullable(text),
            "challenge": _nullable(text),
        }
    )
    stage = _object(
        {
            "stage": {"enum": [s.value for s in mailprobe.Stage]},
            "status": {"enum": [s.value for s in mailprobe.StageStatus]},
            "duration": {"type": "number", "minimum": 0},
            "error": _nullable({"$ref": "#/$defs/error"}),
            "diagnosis": _nullable({"$ref": "#/$defs/diagnosis"}),
            "details": {
                "type": "object",
                "description": "What the stage saw; keys per stage are "
                "listed in the docs (stages.md). JSON values only.",
            },
        }
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mailprobe.invalid/schema/probe-result.json",
        "title": "mailprobe ProbeResult.to_dict()",
        "description": f"Result of mailprobe {mailprobe.__version__}: six stages in order, "
        "plus the optional delivery and capacity stages when asked for.",
        **_object(
            {
                "ok": {"type": "boolean"},
                "duration": {"type": "number", "minimum": 0},
                "diagnosis": _nullable({"$ref": "#/$defs/diagnosis"}),
                "stages": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/stage"},
                    "minItems": 6,
                    "maxItems": len(mailprobe.Stage),
                },
            }
        ),
        "$defs": {"diagnosis": diagnosis, "error": error, "stage": stage},
    }


def render() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != render():
            print(f"{OUT} is stale: run python scripts/gen_schema.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
