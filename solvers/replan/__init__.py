"""Re-planning from a previous plan under a move budget (a local search on exact deltas)."""
