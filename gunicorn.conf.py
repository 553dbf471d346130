"""Gunicorn settings for serving qa in production: `gunicorn -c gunicorn.conf.py`.

QA_HOST, QA_PORT and QA_WORKERS set where and how wide it serves, QA_TIMEOUT how long a worker
may be silent; the app reads QA_CORPUS, QA_INDEX, QA_WEB, QA_RATE_LIMIT and QA_RELOAD itself.
"""

import gc
import os

from gunicorn import util

from qa.common import raycluster
from qa.service import cluster
from qa.service.app import SECURITY_HEADERS
from qa.service.errors import error_json
from qa.settings import Settings, cpus

wsgi_app = "qa.wsgi:app"
settings = Settings.from_env()
bind = f"{settings.host}:{settings.port}"

# Answering is CPU-bound (BM25 scoring), so one process per CPU; more would only contend.
workers = settings.workers or cpus()

# The index is loaded (or built) once in the master and shared with the forked workers. SIGHUP
# does not reload a preloaded app: workers pick up a new index themselves (QA_RELOAD,
# qa.service.reload).
preload_app = True
if settings.cluster:
    # The master must not connect to Ray before it forks (qa.service.cluster): it warms up with
    # its shards in-process; each worker connects at its first question.
    cluster.in_process_until_fork()

# A worker silent this long is killed and replaced. An answer takes milliseconds, so only a stuck
# worker gets there, and that includes one held by a slow client: the sync worker reads a
# request's headers and body with no deadline of its own, so this is how long a client sending
# byte by byte, or never finishing its body, can hold a worker (slowloris). Facing the internet,
# put a proxy that buffers whole requests (nginx) in front, as gunicorn's documentation advises.
timeout = settings.timeout
# On SIGTERM, workers finish the requests in hand for up to this long before being killed.
graceful_timeout = 20
keepalive = 5

# Requests here are small. The request line is allowed gunicorn's maximum, so that a question of
# 1,000 characters still fits a GET when percent-encoded at two bytes a character (longer ones
# get 414 and can POST); headers are held to what a browser behind a proxy sends.
limit_request_line = 8190
limit_request_fields = 50
limit_request_field_size = 8190

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


def pre_fork(server, worker) -> None:
    """Moves the loaded app's objects out of the collector's reach before a worker is forked.

    A collection in a worker would write to every object it visits, copying the pages it shares
    with the master; frozen objects are never visited, so those pages stay shared.
    """
    gc.freeze()


def post_fork(server, worker) -> None:
    """Lets a new worker serve its shards from the Ray cluster (QA_CLUSTER), if one is set."""
    cluster.forked()


def worker_exit(server, worker) -> None:
    """Leaves the Ray cluster cleanly: a driver that exits while connected aborts."""
    raycluster.disconnect()


def _json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """Writes an error that gunicorn answers itself in the app's one JSON shape, not as HTML."""
    body = error_json(status_int, mesg or reason)
    head = [
        f"HTTP/1.1 {status_int} {reason}",
        "Connection: close",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in SECURITY_HEADERS.items()),
    ]
    util.write_nonblock(sock, ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


# gunicorn refuses some requests before the app sees them (a malformed request line, one over the
# limits above) and answers 500 for a worker killed by the timeout mid-request. Its HTML page
# would be the only error clients get in another shape; it has no setting for this, so the one
# function it writes them with is replaced (in the master, before the workers are forked).
util.write_error = _json_error
