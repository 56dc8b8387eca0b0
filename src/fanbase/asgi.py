"""The app as uvicorn imports it in each worker process (settings from the environment)."""

from fanbase.app import create_app

app = create_app()
