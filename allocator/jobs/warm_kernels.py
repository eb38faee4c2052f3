"""Imported by the job runner's fork server only: loads the solvers' compiled kernels there,
so every job's process forks with them loaded instead of loading them itself.

Not imported by the service process: it never solves, and loading costs about 1.3 s.
"""

from solvers.registry import load_kernels

# A kernel that cannot load here is left to its solver, which runs without it and says why.
load_kernels()
