"""What a processing run works on: per dataset, the newest complete ingestion (one with its
manifest), its CSVs, and each one's table and layout, known from its header."""

from __future__ import annotations

import logging

from jobs.contract import MANIFEST, ingestion_folder, ingestion_stamp, join
from jobs.enem.schema import detect_layout
from jobs.process.runs import ProcessingError
from jobs.process.transforms import Table, unknown_layout_table
from jobs.storage import Storage, name_of

log = logging.getLogger("lake.process")

HEADER_PROBE_BYTES = 1 << 16


def newest_complete_ingestions(raw: str, store: Storage) -> dict[str, str]:
    """dataset -> URI of its newest `ingest=<stamp>` folder that has a manifest."""
    found = {}
    for dataset in store.children(raw):
        stamps = sorted(filter(None, map(ingestion_stamp, store.children(join(raw, dataset)))),
                        reverse=True)
        for stamp in stamps:
            folder = ingestion_folder(raw, dataset, stamp)
            if store.exists(join(folder, MANIFEST)):
                found[dataset] = folder
                break
            log.warning("skipping %s: no %s, the ingestion is incomplete", folder, MANIFEST)
    return found


def csv_files(ingestion: str, store: Storage) -> list[str]:
    """The CSVs directly in the ingestion folder (documents land elsewhere)."""
    prefix = ingestion.rstrip("/") + "/"
    return [uri for uri in store.files(ingestion)
            if uri.lower().endswith(".csv") and "/" not in uri[len(prefix):]]


def table_for(csv_uri: str, store: Storage) -> Table:
    """Detect the layout from the header; refuse empty and header-only files."""
    head = store.read_bytes(csv_uri, HEADER_PROBE_BYTES).decode("iso-8859-1")
    lines = head.replace("\r\n", "\n").split("\n")
    if not head.strip():
        raise ProcessingError(f"{csv_uri} is empty: re-ingest it from a complete source.")
    if len(lines) < 2 or not any(line.strip() for line in lines[1:]):
        raise ProcessingError(f"{csv_uri} has a header but no rows: re-ingest it from a complete "
                              "source.")
    header = lines[0].split(";")
    name = name_of(csv_uri).rsplit(".", 1)[0].lower()
    layout = detect_layout(header)
    if layout is None:
        log.warning("%s has an unknown layout (%d columns): it lands as table %s with every "
                    "column a string", csv_uri, len(header), name)
        return unknown_layout_table(name, header)
    return Table(name=name, columns=layout.columns, layout=layout)
