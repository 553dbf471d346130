"""Shared fixtures: one engine on the default corpus per session, and flaskr-style app fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "corpus"
EVAL_DIR = ROOT.parent / "shared" / "eval"


@pytest.fixture(scope="session")
def engine(tmp_path_factory) -> Engine:
    """The default corpus, indexed once into a temporary folder."""
    return Engine.open(DEFAULT_CORPUS, tmp_path_factory.mktemp("index"))


@pytest.fixture
def app(engine):
    from qa.app import create_app

    app = create_app({"TESTING": True, "ENGINE": engine})
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
