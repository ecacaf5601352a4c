"""HTTP entry points of the catalog: the provider push API and the bundled demo feeds."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, Throttled
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.authentication import IsProvider, ProviderKeyAuthentication
from catalog.demo import FEED_DIR, with_site_url
from catalog.ingest import IngestFailed, ingest_records
from catalog.models import SyncRun
from catalog.parsers import ProviderJSONParser
from catalog.serializers import ErrorSerializer, ProductRecordSerializer, PushResultSerializer
from flashsale.rate_limits import wait_seconds


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


class IngestUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "ingest_failed"


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class ProductPushView(APIView):
    """A provider pushes a JSON array of product records; good ones land, bad ones come back."""

    authentication_classes = [ProviderKeyAuthentication]
    permission_classes = [IsProvider]
    parser_classes = [ProviderJSONParser]
    renderer_classes = [JSONRenderer]
    throttle_classes: list = []

    @extend_schema(
        operation_id="push_products",
        summary="Upsert a batch of products",
        description=(
            "Each record is validated on its own: valid records are created or updated by "
            "(provider, external_id), invalid ones are listed under `rejections` with their index, "
            "external id and field errors, and the answer is still 200 (`status` says `partial`, or "
            "`failed` when no record was valid). Delivering the same record twice changes nothing. "
            "At most CATALOG_MAX_BATCH records per request (default 1000), at most CATALOG_PUSH_RATE "
            "requests per provider. A chunked body is read up to CATALOG_MAX_BODY_BYTES like any other."
        ),
        request=ProductRecordSerializer(many=True),
        responses={
            200: PushResultSerializer,
            400: _error("Malformed JSON, or the body is not an array."),
            401: _error("Missing or wrong API key."),
            403: _error("The provider is disabled."),
            404: _error("No such provider."),
            411: _error("A chunked body sent to a server that cannot read one (gunicorn can): send a Content-Length."),
            413: _error("More records than CATALOG_MAX_BATCH, or a body over CATALOG_MAX_BODY_BYTES."),
            415: _error("The body is not application/json."),
            429: OpenApiResponse(
                ErrorSerializer,
                description="More pushes than CATALOG_PUSH_RATE for this provider; retry after `Retry-After` seconds.",
            ),
            503: _error("The batch could not be stored; nothing landed. Retry later."),
        },
        examples=[
            OpenApiExample(
                "One product",
                request_only=True,
                # One record: drf-spectacular wraps the example of a many=True request in the array.
                value={
                    "external_id": "sku-1042",
                    "name": "Dinner for two at Le Comptoir",
                    "category": "restaurant",
                    "price": "89.00",
                    "currency": "EUR",
                    "latitude": 48.8519,
                    "longitude": 2.3387,
                    "place": "Paris",
                    "image_url": "https://picsum.photos/seed/sku-1042/400/300",
                },
            )
        ],
    )
    def post(self, request, slug: str):
        _check_push_rate(request, request.auth)
        _check_body_size(request)
        records = request.data
        if not isinstance(records, list):
            raise ParseError("The body must be a JSON array of product records.")
        if len(records) > settings.CATALOG_MAX_BATCH:
            raise PayloadTooLarge(
                f"{len(records)} records in one request; the limit is {settings.CATALOG_MAX_BATCH}. "
                "Split the delivery into smaller batches."
            )
        try:
            run = ingest_records(request.auth, records, trigger=SyncRun.Trigger.PUSH)
        except IngestFailed as exc:
            raise IngestUnavailable(f"The batch could not be stored (run {exc.run.pk}); nothing landed.") from exc
        return Response(_push_result(run, received=len(records)))


def _check_push_rate(request, provider) -> None:
    """At most CATALOG_PUSH_RATE pushes per provider, counted by its key (whatever address it pushes from)."""
    wait = wait_seconds(
        request, group="catalog:push", key=lambda _group, _request: provider.slug, rate=settings.CATALOG_PUSH_RATE
    )
    if wait:
        raise Throttled(wait=wait, detail=f"More than {settings.CATALOG_PUSH_RATE} pushes for this provider.")


def _check_body_size(request) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise ParseError("Invalid Content-Length header.") from exc
    if length > settings.CATALOG_MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"The body is {length} bytes; the limit is {settings.CATALOG_MAX_BODY_BYTES}. "
            "Split the delivery into smaller batches."
        )


def _push_result(run: SyncRun, *, received: int) -> dict:
    return {
        "run": run.pk,
        "status": run.status,
        "received": received,
        "created": run.created_count,
        "updated": run.updated_count,
        "unchanged": run.unchanged_count,
        "rejected": run.rejected_count,
        "rejections": list(run.rejections.order_by("index").values("index", "external_id", "errors")),
    }


def demo_feed(request, name: str):
    """The bundled demo feeds, so the demo's pull providers have something real to fetch."""
    if not settings.CATALOG_DEMO_FEEDS:
        raise Http404("Demo feeds are turned off.")
    # Only names that exist in the bundled directory: no path ever comes from the URL.
    files = {path.name: path for path in FEED_DIR.iterdir() if path.is_file()}
    if name not in files:
        raise Http404("No such demo feed.")
    content_type = "text/csv" if name.endswith(".csv") else "application/json"
    # The pictures they name are this site's own (catalog/demo: "{site}" is filled in here).
    return HttpResponse(with_site_url(files[name].read_bytes()), content_type=content_type)
