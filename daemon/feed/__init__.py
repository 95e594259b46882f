"""Feed sources and sinks: the live Socket.IO client, feed health, the recorder, replay.

Modules (imported directly; this package imports nothing so that a replay-only user does
not pay for socketio/pyarrow):

- ``client`` — ``FeedClient``: Socket.IO client with reconnect, raw listeners, parsing.
- ``health`` — ``FeedHealth`` (pure) and ``HealthWatchdog`` (stale/fresh transitions).
- ``lines`` — pure decoding of one recorded line in any supported format.
- ``replay`` — ``ReplaySource``: files/folders of recordings → internal events.
- ``recorder`` — ``Recorder``: raw events → one JSON-lines file per game.
- ``parquet`` — recordings → Parquet tables (ticks, events) for DuckDB.
"""
