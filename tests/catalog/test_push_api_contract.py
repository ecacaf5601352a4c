"""The push API does what its OpenAPI schema says: schemathesis, driven by the schema, passes all its checks.

Run against the site served by gunicorn, as a provider meets it: generated batches (schema-valid
and schema-violating), missing and wrong keys, other methods. Records are validated one by one,
so a batch of bad records is a 200 with rejections, and the schema says so.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings

from catalog.keys import issue_key
from catalog.models import Provider
from tests.factories import make_provider

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# 413 is the schema's answer to a batch over maxItems (CATALOG_MAX_BATCH); schemathesis's list of
# "rejected" statuses for schema-violating data does not have it by default.
CONFIG = """
[parameters]
"path.slug" = "{slug}"

[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 411, 413, 415, 422, 428, 429, "5xx"]
"""


def test_schemathesis_passes_every_check_against_the_served_push_api(transactional_db, processes, tmp_path):
    provider = make_provider("contract-tours", delivery=Provider.Delivery.PUSH)
    key = issue_key(provider)
    site = processes.gunicorn(redis_url=settings.CACHES["default"]["LOCATION"], workers=2)
    (tmp_path / "schemathesis.toml").write_text(CONFIG.format(slug=provider.slug))

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(tmp_path / "schemathesis.toml"),
            "run",
            f"{site.url}/api/schema/",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {key}",
            "--max-examples",
            "100",
            "--seed",
            "16",
            "--workers",
            "1",
            "--no-color",
        ],
        cwd=tmp_path,  # its Hypothesis database and any report stay in the test's own folder
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout
    assert "Coverage" in run.stdout and "Fuzzing" in run.stdout
