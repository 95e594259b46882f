"""rugsd risk shell: turns intents into orders or refusals; trading states; kill switch.

- ``risk.gate.check(intent, ctx)`` — the pure gate (``Order | Refusal | None``).
- ``risk.context`` — ``GateContext``, ``RiskLimits``, ``SessionFigures``, ``GameCounters``.
- ``risk.states`` — ``TradingState``, ``RiskState`` (pure transitions), ``StateChange``.
- ``risk.reasons.ReasonCode`` — every refusal and state change.
- ``risk.killswitch`` — the persisted kill latch and the kill file (file-system edge).
- ``risk.ratelimit.RateWindow`` — orders-per-minute sliding window.
"""
