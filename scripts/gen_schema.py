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


def _open(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object whose keys appear when known; keys not listed may be added (a custom
    transport's extra TLS facts, a newer version's fields)."""
    return {"type": "object", "required": list(required), "properties": properties}


def _details() -> dict[str, Any]:
    text, integer, boolean = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
    number = {"type": "number", "minimum": 0}
    strings = {"type": "array", "items": text}
    common = {
        "round_trips": {"type": "integer", "minimum": 0},
        "transcript": strings,
        "reason": text,
    }
    certificate = _open(
        {
            "sha256": text,
            "subject": text,
            "issuer": text,
            "not_before": text,
            "not_after": text,
            "days_to_expiry": integer,
            "self_signed": boolean,
            "subject_alt_names": strings,
            "expires_soon": boolean,
            "parse_error": text,
            "trusted": boolean,
            "problem": text,
        }
    )
    kinds = {
        mailprobe.ConnectDetails: {
            "host": text,
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "security": {"enum": [s.value for s in mailprobe.Security]},
            "security_detected": boolean,
            "certificate_trusted": boolean,
            "certificate_problem": text,
            "certificate_error": text,
            "greeting": text,
            "capabilities": strings,
            "auth_mechanisms": strings,
            "local_address": _nullable(text),
            "peer_address": _nullable(text),
            "tls_version": _nullable(text),
            "cipher": _nullable(text),
            "certificate": _nullable(certificate),
            "warnings": strings,
        },
        mailprobe.LoginDetails: {"login": text, "method": text},
        mailprobe.ValidateDetails: {
            "capabilities": strings,
            "imap_version": text,
            "inbox": {"type": "object"},
            "folder_count": {"type": "integer", "minimum": 0},
            "folders": strings,
            "sent_folder": _nullable(text),
            "missing_capabilities": strings,
        },
        mailprobe.SendDetails: {
            "message_id": text,
            "sender": text,
            "recipient": _nullable(text),
            "recipients": strings,
            "server_reply": text,
        },
        mailprobe.DeliveryDetails: {
            "message_id": text,
            "delivered": boolean,
            "polls": {"type": "integer", "minimum": 0},
            "latency": number,
            "waited": number,
        },
        mailprobe.CapacityDetails: {
            "requested": integer,
            "allowed": integer,
            "refusal": text,
        },
    }
    defs = {cls.__name__: _open({**props, **common}) for cls, props in kinds.items()}
    defs["StageDetails"] = _open(dict(common))
    return defs


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
            "summary": text,
            "hints": strings,
            "links": strings,
            "temporary": {"type": "boolean"},
            "provider": _nullable(text),
            "suggestion": _nullable(server),
            "rule_id": text,
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
            "stage": _nullable({"enum": [s.value for s in mailprobe.Stage]}),
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
    stage_fields = {
        "stage": {"enum": [s.value for s in mailprobe.Stage]},
        "status": {"enum": [s.value for s in mailprobe.StageStatus]},
        "duration": {"type": "number", "minimum": 0},
        "error": _nullable({"$ref": "#/$defs/error"}),
        "diagnosis": _nullable({"$ref": "#/$defs/diagnosis"}),
        "details": {
            "type": "object",
            "description": "What the stage saw; its keys depend on the stage (stages.md).",
        },
    }
    stage = _object(stage_fields)
    stage["allOf"] = [
        {
            "if": {"properties": {"stage": {"enum": sorted(s.value for s in cls.stages)}}},
            "then": {"properties": {"details": {"$ref": f"#/$defs/{cls.__name__}"}}},
        }
        for cls in (
            mailprobe.ConnectDetails,
            mailprobe.LoginDetails,
            mailprobe.ValidateDetails,
            mailprobe.SendDetails,
            mailprobe.DeliveryDetails,
            mailprobe.CapacityDetails,
        )
    ]
    check = _object({"name": text, **stage_fields})
    check["properties"]["details"] = {"$ref": "#/$defs/StageDetails"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mailprobe.invalid/schema/probe-result.json",
        "title": "mailprobe ProbeResult.to_dict()",
        "description": f"Result of mailprobe {mailprobe.__version__}: six stages in order, "
        "plus the optional delivery and capacity stages when asked for, and the app's "
        "own checks. ProbeResult.from_dict() reads it back.",
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
                "warnings": strings,
                "warning_messages": {"type": "array", "items": message},
                "checks": {"type": "array", "items": {"$ref": "#/$defs/check"}},
            }
        ),
        "$defs": {
            "diagnosis": diagnosis,
            "error": error,
            "stage": stage,
            "check": check,
            **_details(),
        },
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
