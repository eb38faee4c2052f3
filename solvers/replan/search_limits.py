"""Size limits of the re-planning search, apart so they can be read without OR-Tools."""

__all__ = ["MAX_REPAIR_PAIRS"]

#: Above this many (agent, task) pairs the CP-SAT repair model is too big to help within seconds.
MAX_REPAIR_PAIRS = 200_000
