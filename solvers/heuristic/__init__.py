"""The constructive heuristic: greedy with regret insertion, local search, ejection and
perturbation (warm starts, fallback, the largest requests).
"""
