"""The WSGI entry point for gunicorn (`qa.wsgi:app`); settings come from QA_* variables."""

from qa.service.app import create_app

app = create_app()
