"""Game state: the pure state machine that turns ``GameUpdate`` events into a ``GameView``.

``machine.GameStateMachine`` is the entry point; ``transitions`` holds what ``apply``
returns; ``view`` (GameView, GameSummary) is what the decision core reads.
"""
