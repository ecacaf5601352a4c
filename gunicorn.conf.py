"""gunicorn settings of the site (read from the working directory, or ``gunicorn -c gunicorn.conf.py``).

Prometheus metrics across workers: every worker is a process of its own, so prometheus-client keeps
each worker's counters in files under ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds them up.
That directory must be set before a worker imports the client and must start empty: unset, this
master makes a private one (removed when it exits); set, it is emptied when the master starts.
A worker that exits has its live gauges dropped (``mark_process_dead``); its counters stay in the
sums, so totals never go backwards while the server runs.

The access log prints the request id the site answers in ``X-Request-ID`` and the time taken; with
``FLASHSALE_LOG_FORMAT=json`` (the production default) gunicorn's own lines are JSON too.
"""

import os
import shutil
import tempfile
from pathlib import Path

_owned_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _owned_metrics_dir = tempfile.mkdtemp(prefix="flashsale-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _owned_metrics_dir

access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'

_mode = os.environ.get("FLASHSALE_MODE", "development").strip().lower()
_log_format = os.environ.get("FLASHSALE_LOG_FORMAT", "json" if _mode == "production" else "plain").strip().lower()
if _log_format == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    # Files of a previous run would be added to this one's counters.
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _owned_metrics_dir:
        shutil.rmtree(_owned_metrics_dir, ignore_errors=True)
