"""Shared fixtures: one engine on the default corpus per session, and flaskr-style app fixtures."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from qa.answer.engine import Engine
from tests.helpers import DEFAULT_CORPUS, MANY_DOCUMENTS

# Read when Ray is imported (tests/test_cluster.py, and the gunicorn workers it starts): with it 0,
# every Ray process, drivers included, takes 127.0.0.1 as its node's address and binds only there.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A real Ray cluster of a head and two worker nodes, all bound to 127.0.0.1; this process
    is a driver of it (tests/test_cluster.py, tests/test_cluster_build.py). One per module, shut
    down after it, so that no later test runs beside a live cluster."""
    from qa.tools.serving import local_ray

    with local_ray(3, tmp_path_factory.mktemp("ray")) as nodes:
        yield nodes


@pytest.fixture(scope="session")
def engine(tmp_path_factory) -> Engine:
    """The default corpus, indexed once into a temporary folder."""
    return Engine.open(DEFAULT_CORPUS, tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def many_documents(tmp_path_factory) -> Engine:
    """A corpus of MANY_DOCUMENTS short documents, more than the web page lists at once; the
    last one's title has an accent."""
    folder = tmp_path_factory.mktemp("many")
    for n in range(MANY_DOCUMENTS - 1):
        text = f"= Report {n:03d} =\n\nThe river gauge {n} read {n % 7} metres on Monday.\n"
        (folder / f"report-{n:03d}.txt").write_text(text, "utf-8")
    (folder / "siege.txt").write_text("= Siege of Kobanî =\n\nThe siege lasted months.\n")
    return Engine.open(folder, tmp_path_factory.mktemp("many-index"))


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A copy of the default corpus, for tests that change it."""
    folder = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, folder)
    return folder


@pytest.fixture
def app(engine):
    from qa.service.app import create_app

    app = create_app({"TESTING": True, "ENGINE": engine})
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def web_dir(tmp_path) -> Path:
    """A small web folder: the page, a script, a style sheet and a nested file."""
    web = tmp_path / "web"
    (web / "icons").mkdir(parents=True)
    (web / "index.html").write_text(
        '<!doctype html><title>qa</title><script type="module" src="/assets/app.js"></script>',
        "utf-8",
    )
    (web / "app.js").write_text("export const answer = 42;\n", "utf-8")
    (web / "style.css").write_text("body { margin: 0; }\n", "utf-8")
    (web / "icons" / "icon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', "utf-8")
    (tmp_path / "secret.txt").write_text("not for the web", "utf-8")
    return web


@pytest.fixture
def page_client(engine, web_dir):
    """A client of an app that serves `web_dir`."""
    from qa.service.app import create_app

    return create_app({"TESTING": True, "ENGINE": engine, "WEB_DIR": str(web_dir)}).test_client()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium through Playwright, one for the whole session (see browser_helpers)."""
    from tests.browser_helpers import launch_browser

    with launch_browser() as browser:
        yield browser


@pytest.fixture(scope="module")
def base_url(engine):
    """The real app on the default corpus, served over HTTP on a free loopback port."""
    from tests.browser_helpers import make_app, serve

    with serve(make_app(engine)) as (url, _server):
        yield url


@pytest.fixture
def session(browser, base_url):
    """A fresh desktop page on the shared server; fails the test on any script or CSP error."""
    from tests.browser_helpers import open_page

    context, page, watch = open_page(browser, base_url)
    yield page, watch
    context.close()
    assert watch.errors == []
