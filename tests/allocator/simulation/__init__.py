"""Tests of the SimPy simulation."""
