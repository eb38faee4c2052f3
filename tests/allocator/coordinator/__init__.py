"""Tests of the online coordinator."""
