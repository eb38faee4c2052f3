"""Seeded problem generators for tests and benchmarks (the published GAP generators, attribute-form
instances).
"""
