"""Ingest a delivery of product records (push or pull): validate each record, upsert in batches.

Every delivery becomes a SyncRun. Good records land even when others in the same delivery are
rejected; each rejection is kept with its position, external id and field errors. Upserts are
idempotent by (provider, external_id): a record that matches what we hold changes nothing.
Statements are bounded by chunks (one SELECT, one INSERT, one UPDATE per chunk), never per row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field
from rest_framework.exceptions import ValidationError

from catalog.models import Product, Provider, SyncRejection, SyncRun
from catalog.serializers import RECORD_FIELDS, ProductRecordSerializer
from flashsale import clock
from flashsale.progress import NO_PROGRESS, Progress

logger = logging.getLogger(__name__)

_WRITTEN_FIELDS = (*RECORD_FIELDS, "raw", "updated_at")
_EXTERNAL_ID_MAX = 200


@dataclass(slots=True)
class ValidRecord:
    index: int
    external_id: str
    values: dict[str, Any]
    raw: Any


@dataclass(slots=True)
class Rejection:
    index: int
    external_id: str
    errors: dict[str, Any]
    record: Any


class IngestFailed(Exception):
    """The delivery could not be written; nothing of it landed. ``run`` records why."""

    def __init__(self, run: SyncRun):
        super().__init__(run.error)
        self.run = run


def ingest_records(
    provider: Provider,
    records: Sequence[Any],
    *,
    trigger: str,
    full_feed: bool = False,
    chunk_size: int | None = None,
    run: SyncRun | None = None,
    progress: Progress = NO_PROGRESS,
) -> SyncRun:
    """Validate and upsert ``records`` for ``provider``; return the finished SyncRun.

    ``full_feed`` says the delivery is the provider's whole catalog: products missing from it
    are marked inactive (never deleted). ``run`` continues a run already started (a pull creates
    it before fetching). Raises IngestFailed when the database write fails; the run is then
    saved as failed and no product was touched. ``progress`` counts the valid records stored.
    """
    chunk_size = chunk_size or settings.CATALOG_INGEST_CHUNK
    run = run or start_run(provider, trigger=trigger)
    try:
        valid, rejections = validate_records(records)
        with transaction.atomic():
            # One delivery per provider at a time: concurrent push and pull would otherwise race
            # on inserting the same external ids.
            Provider.objects.select_for_update().filter(pk=provider.pk).values_list("pk").first()
            _store_delivery(
                provider, run, valid, rejections, full_feed=full_feed, chunk_size=chunk_size, progress=progress
            )
            _record_outcome(provider, run)
    except Exception as exc:
        logger.exception("catalog ingest failed for provider %s (run %s)", provider.slug, run.pk)
        fail_run(run, error=f"Could not store the delivery: {type(exc).__name__}: {exc}")
        raise IngestFailed(run) from exc
    logger.info(
        "catalog ingest %s run=%s created=%s updated=%s unchanged=%s rejected=%s deactivated=%s",
        provider.slug,
        run.pk,
        run.created_count,
        run.updated_count,
        run.unchanged_count,
        run.rejected_count,
        run.deactivated_count,
    )
    return run


def _store_delivery(
    provider: Provider,
    run: SyncRun,
    valid: list[ValidRecord],
    rejections: list[Rejection],
    *,
    full_feed: bool,
    chunk_size: int,
    progress: Progress = NO_PROGRESS,
) -> None:
    """Upsert the valid records, deactivate what a full feed no longer lists, keep the rejections; finish ``run``."""
    progress.start(f"{provider.slug}: records", len(valid), unit="records")
    created, updated, unchanged = _upsert(provider, valid, chunk_size=chunk_size, progress=progress)
    progress.finish()
    deactivated = 0
    error = ""
    if full_feed and valid:
        # Rejected records are still present in the feed: keep our copy of them active.
        seen = {r.external_id for r in valid} | {r.external_id for r in rejections if r.external_id}
        deactivated = _deactivate_missing(provider, seen, chunk_size=chunk_size)
    elif full_feed:
        error = "The feed had no valid records; no product was deactivated."
    SyncRejection.objects.bulk_create(
        [
            SyncRejection(run=run, index=r.index, external_id=r.external_id, errors=r.errors, record=r.record)
            for r in rejections
        ],
        batch_size=chunk_size,
    )
    run.created_count = created
    run.updated_count = updated
    run.unchanged_count = unchanged
    run.rejected_count = len(rejections)
    run.deactivated_count = deactivated
    run.status = _status(accepted=len(valid), rejected=len(rejections), error=error)
    run.error = error
    run.finished_at = clock.now()
    run.save()


def validate_records(records: Sequence[Any]) -> tuple[list[ValidRecord], list[Rejection]]:
    """Split a delivery into valid records and rejections, keeping each record's position."""
    # One serializer instance validates every record (as ListSerializer does internally):
    # building a serializer per record would dominate the cost of a large feed.
    serializer = ProductRecordSerializer()
    valid: list[ValidRecord] = []
    rejections: list[Rejection] = []
    first_index: dict[str, int] = {}
    for index, record in enumerate(records):
        try:
            values = serializer.run_validation(record)
        except ValidationError as exc:
            rejections.append(Rejection(index, _external_id_of(record), _plain_errors(exc.detail), storable(record)))
            continue
        external_id = values.pop("external_id")
        if external_id in first_index:
            errors = {"external_id": [f"Repeated in this delivery (first at index {first_index[external_id]})."]}
            rejections.append(Rejection(index, external_id, errors, storable(record)))
            continue
        first_index[external_id] = index
        valid.append(ValidRecord(index, external_id, dict(values), storable(record)))
    return valid, rejections


def start_run(provider: Provider, *, trigger: str) -> SyncRun:
    return SyncRun.objects.create(provider=provider, trigger=trigger)


def storable(value: Any) -> Any:
    """``value`` with what PostgreSQL's jsonb refuses (NUL characters, lone surrogates) replaced.

    Records are stored as sent (``raw``, rejections), and one unstorable character must not
    make a whole delivery fail.
    """
    try:
        return _storable(value)
    except RecursionError:
        return {"unstorable": "The record is nested too deeply to store."}


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        if value.isascii():
            return value.replace("\x00", "\ufffd") if "\x00" in value else value
        return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def fail_run(run: SyncRun, *, error: str) -> SyncRun:
    """Close ``run`` as failed with a readable ``error`` and mark its provider's last sync failed."""
    run.status = SyncRun.Status.FAILED
    run.error = error
    run.finished_at = clock.now()
    run.save(update_fields=["status", "error", "finished_at"])
    _record_outcome(run.provider, run)
    return run


def _upsert(
    provider: Provider, valid: list[ValidRecord], *, chunk_size: int, progress: Progress = NO_PROGRESS
) -> tuple[int, int, int]:
    created = updated = unchanged = 0
    now = clock.now()
    for chunk in _chunks(valid, chunk_size):
        existing = {
            product.external_id: product
            for product in Product.objects.filter(provider=provider, external_id__in=[r.external_id for r in chunk])
            .order_by()
            .only("pk", "external_id", "raw", *RECORD_FIELDS)
        }
        new: list[Product] = []
        changed: list[Product] = []
        for record in chunk:
            product = existing.get(record.external_id)
            if product is None:
                new.append(Product(provider=provider, external_id=record.external_id, raw=record.raw, **record.values))
                continue
            if product.raw == record.raw and all(
                getattr(product, name) == value for name, value in record.values.items()
            ):
                unchanged += 1
                continue
            for name, value in record.values.items():
                setattr(product, name, value)
            product.raw = record.raw
            product.updated_at = now
            changed.append(product)
        if new:
            Product.objects.bulk_create(new, batch_size=chunk_size)
        if changed:
            _write_changes(changed, chunk_size=chunk_size)
        created += len(new)
        updated += len(changed)
        progress.advance(len(chunk))
    return created, updated, unchanged


def _write_changes(products: list[Product], *, chunk_size: int) -> None:
    """One UPDATE per chunk of changed products.

    Django's bulk_update builds a CASE WHEN per row and column, which PostgreSQL evaluates in
    quadratic time (minutes for 50,000 rows); there, join the rows from arrays instead.
    """
    if connection.vendor == "sqlite":
        _write_changes_sqlite(products)
        return
    if connection.vendor != "postgresql":
        Product.objects.bulk_update(products, _WRITTEN_FIELDS, batch_size=min(chunk_size, 500))
        return
    meta = Product._meta
    columns = [cast(Field, meta.get_field(name)) for name in _WRITTEN_FIELDS]
    assignments = ", ".join(
        f"{qn(field.column)} = v.{qn(field.column)}{'::jsonb' if field.name == 'raw' else ''}" for field in columns
    )
    arrays = ", ".join(["%s::bigint[]"] + [f"%s::{_PG_ARRAY_TYPES[field.name]}" for field in columns])
    names = ", ".join(["id"] + [qn(field.column) for field in columns])
    # Identifiers come from the model's metadata, values travel as parameters.
    sql = f"UPDATE {qn(meta.db_table)} AS p SET {assignments} FROM unnest({arrays}) AS v({names}) WHERE p.id = v.id"  # noqa: S608
    with connection.cursor() as cursor:
        for chunk in _chunks(products, chunk_size):
            params = [[product.pk for product in chunk]]
            for field in columns:
                values = [getattr(product, field.attname) for product in chunk]
                params.append([json.dumps(value) for value in values] if field.name == "raw" else values)
            cursor.execute(sql, params)


def _write_changes_sqlite(products: list[Product]) -> None:
    """The embedded default: UPDATE ... FROM (VALUES ...), sized under SQLite's variable limit."""
    meta = Product._meta
    columns = [cast(Field, meta.get_field(name)) for name in _WRITTEN_FIELDS]
    rows_per_statement = 30_000 // (len(columns) + 1)
    assignments = ", ".join(f"{qn(field.column)} = v.column{n}" for n, field in enumerate(columns, start=2))
    row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    with connection.cursor() as cursor:
        for chunk in _chunks(products, rows_per_statement):
            params: list[Any] = []
            for product in chunk:
                params.append(product.pk)
                params.extend(field.get_db_prep_save(getattr(product, field.attname), connection) for field in columns)
            values = ", ".join([row] * len(chunk))
            # Identifiers come from the model's metadata, values travel as parameters.
            sql = (
                f"UPDATE {qn(meta.db_table)} AS p SET {assignments} FROM (VALUES {values}) AS v WHERE p.id = v.column1"  # noqa: S608
            )
            cursor.execute(sql, params)


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


_PG_ARRAY_TYPES = {
    "name": "text[]",
    "description": "text[]",
    "category": "text[]",
    "image_url": "text[]",
    "list_price": "numeric[]",
    "currency": "text[]",
    "latitude": "numeric[]",
    "longitude": "numeric[]",
    "place": "text[]",
    "is_active": "boolean[]",
    "raw": "text[]",
    "updated_at": "timestamptz[]",
}


def _deactivate_missing(provider: Provider, seen: set[str], *, chunk_size: int) -> int:
    """Mark the provider's active products that the full feed no longer lists as inactive."""
    active = Product.objects.filter(provider=provider, is_active=True).order_by().values_list("pk", "external_id")
    missing = [pk for pk, external_id in active if external_id not in seen]
    now = clock.now()
    return sum(
        Product.objects.filter(pk__in=pks).update(is_active=False, updated_at=now)
        for pks in _chunks(missing, chunk_size * 5)
    )


def _record_outcome(provider: Provider, run: SyncRun) -> None:
    fields: dict[str, Any] = {"last_sync_state": run.status}
    if run.status != SyncRun.Status.FAILED:
        fields["last_synced_at"] = run.finished_at
    Provider.objects.filter(pk=provider.pk).update(**fields)
    for name, value in fields.items():
        setattr(provider, name, value)


def _status(*, accepted: int, rejected: int, error: str) -> str:
    if error or (rejected and not accepted):
        return SyncRun.Status.FAILED
    if rejected:
        return SyncRun.Status.PARTIAL
    return SyncRun.Status.OK


def _external_id_of(record: Any) -> str:
    if isinstance(record, dict):
        value = record.get("external_id")
        if isinstance(value, str | int) and not isinstance(value, bool):
            # A rejected record's id is stored with its rejection: make it storable first.
            return storable(str(value).strip())[:_EXTERNAL_ID_MAX]
    return ""


def _plain_errors(detail: Any) -> dict[str, Any]:
    """DRF error details as plain JSON (strings), always keyed by field name."""
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    return {"non_field_errors": _plain(detail if isinstance(detail, list) else [detail])}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return str(value)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
