"""The DEAP NSGA-II engine: operators, capacity repair, survivor selection and whole-population
evaluation.
"""
