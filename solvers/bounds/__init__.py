"""Lower bounds: the LP relaxation (reported as a solver) and the Lagrangian bound."""
