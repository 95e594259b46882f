"""The control plane: a local Unix-socket endpoint, its clients and the metrics endpoint.

- ``protocol``: the versioned line-delimited JSON protocol (pure; clients may import it),
- ``server``:   ``ControlServer`` the daemon embeds (injected snapshot provider and
  command handler); ``connection`` (per-client queues) and ``sockpath`` (socket file)
  are its parts; ``snapshot_schema`` and ``example`` are re-exported by ``protocol``,
- ``client``:   async and blocking clients, ``try_control_command`` for CLI fallbacks,
- ``metrics``:  Prometheus metrics in a private registry and the loopback endpoint,

Kept import-light on purpose: the TUI imports ``client``/``protocol`` only.
"""
