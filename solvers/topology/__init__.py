"""Topology optimisation as a solver: candidate designs, local search, an exact MILP, the job."""

from solvers.topology.candidates import Candidate, candidate_designs, standard_designs
from solvers.topology.job import (
    CandidateScore,
    MilpSummary,
    TopologyResult,
    optimize_topology,
)
from solvers.topology.local_search import SearchOutcome, improve
from solvers.topology.milp_design import MAX_MILP_NODES, MilpDesign, design_milp
from solvers.topology.space import DesignSpace, build_space

__all__ = [
    "MAX_MILP_NODES",
    "Candidate",
    "CandidateScore",
    "DesignSpace",
    "MilpDesign",
    "MilpSummary",
    "SearchOutcome",
    "TopologyResult",
    "build_space",
    "candidate_designs",
    "design_milp",
    "improve",
    "optimize_topology",
    "standard_designs",
]
