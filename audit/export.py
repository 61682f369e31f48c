"""Copy a log (what the reader's key may see) from its source into an export directory.

The export holds every leaf hash, the events the key may see (an empty line
for each other one) and the latest checkpoint, unverified: verifying is
``regie audit verify --export DIR``'s job, with the auditor's own trust.
"""

from __future__ import annotations

from pathlib import Path

from regie_protocol.errors import Misuse
from regie_protocol.tlog.checkpoint import Checkpoint
from regie_protocol.tlog.note import parse_note

from .export_dir import MAX_LOG_SIZE, ExportWriter
from .progress import SILENT, Progress
from .source import LogSource


def write_export(
    source: LogSource, out_dir: Path, *, progress: Progress = SILENT
) -> tuple[Checkpoint, int]:
    """Write ``source``'s log to ``out_dir`` (new or empty): its head and the events visible."""
    note = source.checkpoint()
    head = Checkpoint.parse_body(parse_note(note).text)
    if head.size > MAX_LOG_SIZE:
        raise Misuse(f"the log has {head.size} entries; an export holds at most {MAX_LOG_SIZE}")
    visible = 0
    with ExportWriter(out_dir) as writer:
        writer.add_leaf_hashes(source.leaf_hashes(head.size, progress))
        progress.stage("Fetching events", head.size)
        for start, lines in source.event_lines(head.size):
            for offset, line in enumerate(lines):
                if line:
                    writer.add_event(start + offset, line)
                    visible += 1
            progress.advance(len(lines))
        writer.finish(origin=head.origin, size=head.size, checkpoint=note)
    return head, visible


__all__ = ["write_export"]
