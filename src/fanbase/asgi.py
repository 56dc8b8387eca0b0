"""The app as uvicorn imports it in each worker process (settings from the environment)."""

import gc
import sys

from fanbase.app import create_app

app = create_app()

# Everything built so far lives as long as the process: keep the collector from scanning it again and
# again (measured: fewer latency spikes on the product page under load).
gc.freeze()
# Under load each request in flight keeps a few dozen objects alive (coroutines, futures, scopes), and the
# collector's young-generation pass rescanned all of them every 700 allocations: about a tenth of the
# server's time in the flash-sale benchmark. A pass every 20,000 allocations costs a few milliseconds
# each and next to nothing in total.
gc.set_threshold(20_000, 10, 10)
# Hand the GIL back to the event loop sooner when a database thread holds it (default 5 ms).
sys.setswitchinterval(0.001)
