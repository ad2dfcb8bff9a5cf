"""gunicorn's settings file, read from the working directory by every ``gunicorn`` start.

https://docs.gunicorn.org/en/stable/configure.html#configuration-file
"""

import os as _os  # underscored: gunicorn reads this module's public names as settings

# The access log without check-in tokens (config/log_redaction.py).
logger_class = "config.log_redaction.GunicornLogger"
# One JSON object per request, as the application's log lines (docs/OPERATIONS.md, "Logs"),
# with the request id the response carries; the logger class escapes each value for JSON.
# DJANGO_LOG_FORMAT=text keeps gunicorn's own line.
# https://docs.gunicorn.org/en/stable/settings.html#access-log-format
if _os.environ.get("DJANGO_LOG_FORMAT", "json") == "json":
    access_log_format = (
        '{"time": "%(t)s", "logger": "gunicorn.access", "remote": "%(h)s", "request": "%(r)s",'
        ' "status": "%(s)s", "bytes": "%(b)s", "duration_ms": "%(M)s", "referer": "%(f)s",'
        ' "user_agent": "%(a)s", "request_id": "%({x-request-id}o)s"}'
    )


def child_exit(server: object, worker: object) -> None:  # noqa: ARG001 - gunicorn's hook signature
    """A worker that exits gives back its live-gauge files (prometheus-client multiprocess).

    https://prometheus.github.io/client_python/multiprocess/
    """
    import os  # noqa: PLC0415 - gunicorn reads this module's globals as settings

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess  # noqa: PLC0415 - same reason

        multiprocess.mark_process_dead(worker.pid)
