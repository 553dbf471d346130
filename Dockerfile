# qa: question answering with cited passages, served by gunicorn.
#   docker build -t qa .
#   docker run --rm -p 8000:8000 qa
# pdf.js for the page's PDF viewer, from the npm registry by the lock file (Debian's npm).
FROM python:3.11-slim AS pdfjs
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    QA_CORPUS=/app/corpus \
    QA_INDEX=/app/index \
    QA_WEB=/app/web \
    QA_PDFJS=/app/node_modules/pdfjs-dist \
    QA_HOST=0.0.0.0 \
    QA_PORT=8000 \
    NUMBA_CACHE_DIR=/app/.numba-cache

WORKDIR /app

# Dependencies and package first, so editing the corpus or the page does not reinstall them.
COPY pyproject.toml README.md ./
COPY qa ./qa
RUN pip install .

COPY gunicorn.conf.py ./
COPY web ./web
COPY --from=pdfjs /build/node_modules/pdfjs-dist ./node_modules/pdfjs-dist
COPY corpus ./corpus

# The index is built now, so a container starts by loading it and never fetches anything; one
# question compiles retrieval's loop (qa/index/compiled.py) into Numba's cache, which the
# unprivileged user can read and write.
RUN qa index \
    && qa ask "What is this about?" > /dev/null \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin qa \
    && chown -R qa /app/.numba-cache

USER qa
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ['QA_PORT'], timeout=4)"]

# SIGTERM (docker stop) makes gunicorn finish requests in hand, then exit.
ENTRYPOINT ["gunicorn", "--config", "/app/gunicorn.conf.py"]
