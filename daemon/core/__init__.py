"""The decision core: one synchronous, deterministic step function driven by events.

The same ``DecisionCore`` runs live (feed → core → executor), in replay, in backtests and
inside the gymnasium env. It reads no clock and does no I/O: every input carries its
time, every output is a value (orders to send, records to journal).
"""
