"""The OR-Tools CP-SAT engine: the model, its run, the Pareto sweep, infeasibility diagnosis and
integer scaling.
"""
