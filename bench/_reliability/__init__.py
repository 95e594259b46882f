"""The reliability probes (``bench/reliability.py``, ``tests/reliability/``): each drives the
real ``rugsd run --paper`` process against the real ``rugsd sim`` or a hostile Socket.IO
server of ours on loopback, in bounded loops, and returns its figures with a verdict for
every "must be 0". Sizes are parameters: the benchmark runs them large, CI small."""
