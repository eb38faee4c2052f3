"""The portfolio: several solvers on one request within one budget, plans re-checked, one chosen,
one report.
"""

from solvers.portfolio.breaker import SolverBreaker, default_breaker
from solvers.portfolio.run import run_portfolio

__all__ = ["SolverBreaker", "default_breaker", "run_portfolio"]
