"""The app as uvicorn imports it in each worker process (settings from the environment)."""

import gc
import sys

from fanbase.app import create_app

app = create_app()

# Everything built so far lives as long as the process: keep the collector from scanning it again and
# again (measured: fewer latency spikes on the product page under load).
gc.freeze()
# Hand the GIL back to the event loop sooner when a database thread holds it (default 5 ms).
sys.setswitchinterval(0.001)
