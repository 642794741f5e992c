"""Ingest real exports: case-management files and DTM master lists, validated, with nothing lost.

``ingest_files(stream, paths, data_dir)`` reads, checks and stores; ``read_table(path)`` shows a file's data
rows as the readers see them. ``flowmon ingest`` is the command (:mod:`flowmon.ingest.cli`).
"""

from flowmon.ingest.pipeline import IngestResult, ingest_files
from flowmon.ingest.readers import UnreadableFile, read_table

__all__ = ["IngestResult", "UnreadableFile", "ingest_files", "read_table"]
