"""The MongoDB side of bronze content: `bronze_content_json`, written in batches.

MongoDB and PostgreSQL do not share a transaction, so the loader writes MongoDB
first, commits PostgreSQL last, and removes the file's documents from MongoDB
whenever the PostgreSQL transaction does not commit. Documents left behind by a
crash in between belong to no `loaded` ingestion and are removed by
`remove_orphans` before the next load.

A stored document is the content document's fields plus the metadata fields, at the
top level, as the contract and the console's indexes expect. Its identity is the
collection's own: `_id` is a fresh ObjectId. The few field names the collection
reserves (`_id` and the metadata names, see RESERVED) cannot be the document's too,
so a document that carries one of them, e.g. its own `_id`, keeps it, name and value
unchanged, inside the sub-document DOCUMENT_FIELDS. `bronze.content` (jsonb) keeps
every document exactly as read, whatever its field names.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pymongo.collection import Collection

from etl.schema import MONGO_COLLECTION

log = logging.getLogger(__name__)

META_FIELDS = ("ingestion_id", "source_file", "source_row", "ingestion_timestamp")
DOCUMENT_FIELDS = "document_fields"
RESERVED = frozenset({"_id", *META_FIELDS, DOCUMENT_FIELDS})


def stored(doc: dict, meta: dict) -> dict:
    """The MongoDB document for a content document: its fields, then the metadata fields.

    Fields whose names the collection reserves move, unchanged, under DOCUMENT_FIELDS,
    so neither the MongoDB identity nor the metadata ever overwrites what the file said.
    """
    if RESERVED.isdisjoint(doc):
        return {**doc, **meta}
    body = {k: v for k, v in doc.items() if k not in RESERVED}
    return {**body, DOCUMENT_FIELDS: {k: v for k, v in doc.items() if k in RESERVED}, **meta}


class MongoBatchWriter:
    """Buffers one file's documents and inserts them `batch_size` at a time."""

    def __init__(self, collection: Collection, batch_size: int, ingestion_id: int,
                 source_file: str, ingestion_timestamp: datetime):
        self.collection = collection
        self.batch_size = max(1, batch_size)
        self.meta = {"ingestion_id": ingestion_id, "source_file": source_file,
                     "ingestion_timestamp": ingestion_timestamp}
        self.batch: list[dict] = []
        self.written = 0

    def add(self, doc: dict, source_row: int) -> None:
        self.batch.append(stored(doc, {**self.meta, "source_row": source_row}))
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.collection.insert_many(self.batch, ordered=True)
            self.written += len(self.batch)
            self.batch = []

    def discard(self) -> None:
        """Remove everything of this ingestion (the PostgreSQL side did not commit)."""
        self.batch = []
        removed = self.collection.delete_many({"ingestion_id": self.meta["ingestion_id"]}).deleted_count
        if removed:
            log.info("removed %d MongoDB documents of uncommitted ingestion %s",
                     removed, self.meta["ingestion_id"])


def collection(database) -> Collection:
    return database[MONGO_COLLECTION]


def remove_orphans(coll: Collection, loaded_ids: set[int]) -> int:
    """Delete documents whose ingestion never committed as `loaded`; returns how many."""
    orphans = [i for i in coll.distinct("ingestion_id") if i not in loaded_ids]
    if not orphans:
        return 0
    removed = coll.delete_many({"ingestion_id": {"$in": orphans}}).deleted_count
    log.warning("removed %d MongoDB documents of %d ingestion(s) that never committed",
                removed, len(orphans))
    return removed
