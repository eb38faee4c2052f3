"""Pieces every engine may use: Pareto utilities, hint checks, the timing of a solve."""
