"""Print a probe result as a readable stage report (shared by the examples)."""

from __future__ import annotations

import mailprobe

MARKS = {
    mailprobe.StageStatus.PASSED: "ok  ",
    mailprobe.StageStatus.FAILED: "FAIL",
    mailprobe.StageStatus.SKIPPED: "--  ",
}


def render(result: mailprobe.ProbeResult) -> str:
    lines = []
    for stage in result.stages:
        line = f"  [{MARKS[stage.status]}] {stage.stage.value:<14} {stage.duration * 1000:7.1f} ms"
        if stage.error is not None:
            line += f"  {stage.error.message}"
        lines.append(line)
    lines.extend(f"  !  {warning}" for warning in result.warnings)
    diagnosis = result.diagnosis
    if diagnosis is None:
        lines.append("  => all checks passed")
    else:
        lines.append(
            f"  => {diagnosis.title} (cause: {diagnosis.cause}, rule: {diagnosis.rule_id})"
        )
        lines.extend(f"     - {hint}" for hint in diagnosis.hints)
    return "\n".join(lines)
