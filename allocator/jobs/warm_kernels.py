"""Imported by the job runner's fork server only: loads the solvers' compiled kernels there,
so every job's process forks with them loaded instead of loading them itself.

Not imported by the service process: it never solves, and loading costs about 1.3 s.
"""

from solvers.registry import load_kernels

KERNELS_NOT_LOADED = load_kernels()
