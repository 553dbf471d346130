"""Gunicorn settings for serving qa in production: `gunicorn -c gunicorn.conf.py`.

QA_HOST, QA_PORT and QA_WORKERS set where and how wide it serves; the app reads QA_CORPUS,
QA_INDEX, QA_WEB and QA_RATE_LIMIT itself.
"""

import os


def _cpus() -> int:
    # The CPUs this process may run on (a container's cpuset), not every CPU of the host.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


wsgi_app = "qa.wsgi:app"
bind = f"{os.environ.get('QA_HOST', '127.0.0.1')}:{os.environ.get('QA_PORT', '8000')}"

# Answering is CPU-bound (BM25 scoring), so one process per CPU; more would only contend.
workers = int(os.environ.get("QA_WORKERS") or _cpus())

# The index is loaded (or built) once in the master and shared with the forked workers.
preload_app = True

timeout = 30
# On SIGTERM, workers finish the requests in hand for up to this long before being killed.
graceful_timeout = 20
keepalive = 5

accesslog = "-"
errorlog = "-"
# Client, request id (also in the X-Request-ID response header), request line, status, bytes, time.
access_log_format = '%(h)s %({x-request-id}o)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# No runtime control socket: its default path is per user, so two servers would share one.
control_socket_disable = True

# Heartbeat files on a RAM disk: a container's overlay file system can stall them.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def when_ready(server) -> None:
    """Says where the service answers, once the index is loaded and workers are starting."""
    for listener in server.LISTENERS:
        server.log.info("qa is ready: open %s/ in a browser", listener)
