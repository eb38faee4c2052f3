"""Large-neighbourhood search: CP-SAT on sub-problems cut from the incumbent by neighbourhood
rules.
"""
