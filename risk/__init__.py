"""rugsd risk shell: turns intents into orders or refusals; trading states; kill switch.

- ``rugsd.risk.gate.check(intent, ctx)`` — the pure gate (``Order | Refusal | None``).
- ``rugsd.risk.context`` — ``GateContext``, ``RiskLimits``, ``SessionFigures``, ``GameCounters``.
- ``rugsd.risk.states`` — ``TradingState``, ``RiskState`` (pure transitions), ``StateChange``.
- ``rugsd.risk.reasons.ReasonCode`` — every refusal and state change.
- ``rugsd.risk.killswitch`` — the persisted kill latch and the kill file (file-system edge).
- ``rugsd.risk.ratelimit.RateWindow`` — orders-per-minute sliding window.
"""
