"""Turn a compiled problem into plans and compare them.

The contract is `solvers.base` (`Solver`, `SolveOptions`, `SolveResult`), the names live in
`solvers.registry`, and the portfolio (`solvers.portfolio.run_portfolio`) runs several
engines on one request. One package per engine; `solvers.shared` holds what they share.
"""
