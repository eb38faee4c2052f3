"""The portfolio's schedule as data: size limits and the strategy table saying when each
solver starts, with which share of the budget and of the cores.

Every size threshold lives here, stated per core (`PER_CORE`, scaled to a request's
workers by `SizeLimits.for_cores`). They were measured on the 2-core machine of
BENCHMARKS.md: at 1M variables CP-SAT found no plan in 60 s and HiGHS's LP alone
took 15 s. Engines keep their own guard constants only as safety limits. Which solvers a
request gets, by these limits, is `solver_choice.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from models import CompiledProblem

__all__ = [
    "CLOCK_DRIVEN",
    "OTHERS",
    "PEER_PLAN_TAKERS",
    "PER_CORE",
    "POST_SOLVE",
    "SIZE_LIMITS",
    "STRATEGIES",
    "WORK_BOUNDED",
    "Budget",
    "Phase",
    "PostSolveReserve",
    "SizeLimits",
    "Slot",
    "Strategy",
    "strategy_for",
]

#: Slot name standing for every solver of the request that no slot of the strategy names.
OTHERS = "*"

#: Solvers that size their work from `SolveOptions.work_limit_s` in a deterministic
#: run (kicks, CP-SAT's deterministic time, generations): they may be given the wall
#: clock up to the request's deadline as a safety stop. Others get their budget as is.
WORK_BOUNDED = frozenset({"greedy", "cpsat", "nsga2", "lp_guided"})

#: Solvers whose result depends on the wall clock, with the reason: a deterministic
#: run does not choose them (named explicitly, they run, and the report says so).
CLOCK_DRIVEN = {
    "lns": "the LNS sizes and times its neighbourhoods by the clock, in parallel lanes",
}

#: Solvers that read the other solvers' plans while they run (`SolveOptions.new_peer_plans`):
#: the LNS cuts its next neighbourhoods around a better one. Not in a deterministic run
#: (a race). `milp` could take them too (HiGHS's user-solution callback) but does not:
#: given nothing, HiGHS follows a plain model's path, and a plan passed in moved it off
#: (issue 12, bench.gap --types D --limit 6 at load 10: lost to plain HiGHS on 3 of 6
#: with HiGHS taking plans, on none without).
PEER_PLAN_TAKERS = frozenset({"lns"})


@dataclass(frozen=True)
class SizeLimits:
    """Eligible (agent, task) pairs (or tasks) above which a method is not started by default.

    These are the values for a whole request; `PER_CORE` states them per core.
    """

    cpsat_max_pairs: int = 200_000
    milp_max_pairs: int = 200_000
    lns_max_pairs: int = 2_000_000
    lp_max_pairs: int = 300_000
    nsga2_max_tasks: int = 5_000
    #: Classic GAPs up to this many pairs run HiGHS beside the LNS...
    highs_beside_lns_pairs: int = 20_000
    #: ...when their agents hold at least this many tasks on average. With fewer the LP
    #: is loose: HiGHS proves nothing in 10 s that the LNS's knapsack branch and bound does
    #: not prove sooner, and its core served the LNS better. `python -m bench.gap --methods
    #: portfolio lns --time-limit 10` (the LNS alone on both cores; 3 Dec 2026): 5 and 10
    #: tasks per agent (c/d/e 10100, 20100, 20200, d10100, d40400, e40400): D 0.510 ->
    #: 0.409 %, E 0.096 -> 0.055 %, every C and e10100-e20200 proven as soon; 20 and 40
    #: (c/d/e 05100-20400, 05200, 10400): D 0.096 % with HiGHS beside, 0.108 % without.
    highs_beside_min_tasks_per_agent: float = 15.0
    #: Tasks from which that rule applies: smaller GAPs HiGHS proves at once, whatever
    #: their shape (the instances measured have 100-400 tasks).
    highs_beside_rule_from_tasks: int = 100
    #: Greedy-only requests up to this many pairs run in the calling process.
    inline_max_pairs: int = 20_000
    #: Agents x tasks up to which `lp_guided` runs beside the greedy on requests too large
    #: for the LNS (each dual evaluation reads every pair). In bench.scale it won the plan
    #: (40,000 x 1,000, 30 s: 177.4k, gap 4.2 %, against the greedy's 181.0k, 5.8 %;
    #: 30,000 x 700, 10 s: 3 % better, gap 9.7 % against 6.7 %: its dual has less time
    #: than the background bound's); its process peaked at 1.2 GiB. Per process.
    lp_guided_max_pairs: int = 40_000_000

    def for_cores(self, cores: int) -> SizeLimits:
        """These per-core limits for a request with `cores` workers.

        Only the methods that use every worker scale: CP-SAT (its portfolio of search
        workers) and the LNS (CP-SAT sub-solves). HiGHS's MIP and LP, NSGA-II and the
        in-process greedy run on one core whatever `workers` says, so their limits
        are per process and do not scale. Scaling stops at `_SCALED_CORES_MAX`:
        nothing above 2 cores was measured, and CP-SAT's model building is serial.
        """
        k = max(1, min(cores, _SCALED_CORES_MAX))
        return replace(
            self, cpsat_max_pairs=k * self.cpsat_max_pairs, lns_max_pairs=k * self.lns_max_pairs
        )


#: Scaled limits stop growing at this many cores (see SizeLimits.for_cores).
_SCALED_CORES_MAX = 8

#: The limits per core. Measured on the 2-core machine of BENCHMARKS.md (2 shared
#: cores, 24 GiB): at 1M variables CP-SAT found no plan in 60 s with 2 workers and
#: HiGHS's LP alone took 15 s; the request-level values there were CP-SAT 200k and
#: LNS 2M pairs, i.e. 100k and 1M per core. The per-process limits are as measured.
PER_CORE = SizeLimits(cpsat_max_pairs=100_000, lns_max_pairs=1_000_000)

#: The limits on the reference 2-core machine (tests and docs quote these).
SIZE_LIMITS = PER_CORE.for_cores(2)


@dataclass(frozen=True)
class PostSolveReserve:
    """Seconds kept back from the request's limit for what follows the solvers.

    After the last solver's budget: its own wrap-up (the greedy's last local-search
    chunk, its final evaluation, sending the plan), stopping and joining its process
    (up to 0.1 s on a loaded machine), then `build_report` (every plan re-evaluated),
    plus `after_s`, what the caller does after the portfolio returns (the facade's Why
    section). Measured with `python -m bench.time_limit` on the 2-core machine of
    BENCHMARKS.md. Solvers must end by `limit - seconds()`; once a plan exists the
    runner stops any still running at `limit - seconds() / 2`, keeping what they streamed.
    """

    fixed_s: float = 0.1
    per_pair_s: float = 4e-8
    max_share: float = 0.25  # of the limit: tiny limits keep most of their budget

    def seconds(self, pairs: int, limit_s: float, after_s: float = 0.0) -> float:
        return min(self.max_share * limit_s, self.fixed_s + self.per_pair_s * pairs + after_s)


POST_SOLVE = PostSolveReserve()


@dataclass(frozen=True)
class Budget:
    """Seconds for a phase or a solver: `share` of the request's limit, capped at `max_s`,
    floored at `min_s` and at `per_pair_s` per (agent, task) pair of the request, never
    past what is left. `share=None` means whatever is left."""

    share: float | None = None
    min_s: float = 0.0
    max_s: float = float("inf")
    per_pair_s: float = 0.0

    def seconds(self, limit_s: float, left_s: float, pairs: int = 0) -> float:
        if self.share is None:
            return left_s
        floor = max(self.min_s, self.per_pair_s * pairs)
        return min(max(floor, min(self.share * limit_s, self.max_s)), left_s)


@dataclass(frozen=True)
class Slot:
    """One solver's place in a phase.

    Attributes:
        solver: a registered name, or OTHERS.
        budget: its own time budget; None runs it until the phase ends.
        core_share: share of the request's workers (rounded down, at least one core);
            None splits the workers evenly among the phase's solvers.
        start_share: starts after this share of the phase's budget has passed, when
            other solvers run beside it (alone, it starts at once).
    """

    solver: str
    budget: Budget | None = None
    core_share: float | None = None
    start_share: float = 0.0


@dataclass(frozen=True)
class Phase:
    """Solvers that run side by side; the next phase starts when all of them are done."""

    slots: tuple[Slot, ...]
    budget: Budget = Budget()
    #: Not started when a solver of an earlier phase has proven its plan optimal.
    unless_proven: bool = False
    #: Not started with less than this left of the request's budget (a few tenths of a
    #: second only pay a process start); None starts it with whatever is left.
    min_left: Budget | None = None


@dataclass(frozen=True)
class Strategy:
    """The schedule for one problem class.

    It serves a request when the request's solver set is one of `solver_sets` (empty:
    any set), with `classic_gap_only` only when the problem is a classic GAP, and with
    `workflow_only` only when its tasks have dependencies.
    """

    problem_class: str
    why: str
    phases: tuple[Phase, ...]
    solver_sets: tuple[frozenset[str], ...] = ()
    classic_gap_only: bool = False
    workflow_only: bool = False

    def slots_for(self, phase: Phase, names: list[str]) -> list[tuple[str, Slot]]:
        """The request's solvers `phase` holds, in the request's order, with their slots.

        A solver named by a slot anywhere in the strategy runs in that slot's phase; every
        other solver runs in the phase holding the OTHERS slot.
        """
        named = {s.solver for p in self.phases for s in p.slots if s.solver != OTHERS}
        slots = {s.solver: s for s in phase.slots}
        out = []
        for name in names:
            slot = slots.get(name) or (slots.get(OTHERS) if name not in named else None)
            if slot is not None:
                out.append((name, slot))
        return out


_REST = Phase((Slot("nsga2", start_share=0.5), Slot(OTHERS)))

#: First match wins; the last entry serves any request.
STRATEGIES: tuple[Strategy, ...] = (
    Strategy(
        "workflow",
        "tasks with dependencies: heft builds the schedule (list scheduling, critical-path "
        "moves, CP-SAT on small workflows) and, in Pareto mode, nsga2 the makespan-cost "
        "front beside it; greedy is a short safety net, and solvers a request names "
        "besides them run beside heft",
        (
            Phase((Slot("greedy"),), Budget(0.05, max_s=0.5)),
            # Cores split evenly: alone (one objective) heft has them all; in Pareto
            # mode nsga2 beside it gets one, which it needs to verify its front (with
            # heft on both cores it kept 1 of 100 members under the test suite's load).
            Phase((Slot("heft"), Slot(OTHERS))),
        ),
        workflow_only=True,
    ),
    Strategy(
        "classic GAP, LNS alone",
        "the LNS's CP-SAT sub-solves are the search: three processes on 2 cores starved "
        "it, so greedy is a short one-core safety net beside it (also the small classic "
        "GAPs with few tasks per agent, where HiGHS's core served the LNS better)",
        (
            Phase(
                (
                    # Its plans reach the LNS as they come; a longer ILS beside the LNS
                    # did not pay. 0.2 x the limit (max 2 s) against 0.05 (max 0.5
                    # s), portfolio, 10 s, 3 runs each: c60900 0.104 -> 0.039 %, c801600
                    # 0.299 (one run at 0.76) -> 0.082, c201600 0.030 -> 0.021; D and E
                    # within noise. The floor per pair covers one construction at 4,000
                    # x 500 (1.5 s beside the LNS; 0.1 x the limit, max 1 s, was killed
                    # there without a plan, a breaker failure).
                    Slot("greedy", Budget(0.05, max_s=0.5, per_pair_s=1e-6), core_share=0.0),
                    Slot("lns", core_share=1.0),
                )
            ),
        ),
        solver_sets=(frozenset({"greedy", "lns"}),),
    ),
    Strategy(
        "classic GAP, HiGHS beside the LNS",
        "HiGHS proves most small C and E instances optimal in 3-10 s, and run as a plain "
        "model runs it (same column order, options, whole budget) it follows the plain "
        "model's path; on D the LNS finds what HiGHS does not (HiGHS alone: D mean 0.45% "
        "vs 0.29%). So both get the whole budget side by side beside a short one-core "
        "greedy, the LNS taking HiGHS's and greedy's better plans as they come; the first "
        "proof of optimality stops the others (on most small C and E instances now the "
        "LNS's: its knapsack branch and bound proves them in 1-4 s). HiGHS gets the "
        "request's thread count, as the plain model does: its search path depends on that "
        "count, and its MIP search is serial apart from short parallel parts, so it still "
        "takes about one core",
        (
            Phase(
                (
                    Slot("greedy", Budget(0.05, max_s=0.5), core_share=0.0),
                    # HiGHS on 1 thread (issue 12, e10100 at 15 s, quiet machine): 11,591;
                    # on 2 threads, the plain model's: 11,577 (optimal) at 11.3 s.
                    Slot("milp", core_share=1.0),
                    Slot("lns", core_share=0.5),
                ),
            ),
        ),
        solver_sets=(frozenset({"greedy", "milp", "lns"}),),
        classic_gap_only=True,
    ),
    Strategy(
        "large attribute form",
        "only the heuristics scale: greedy, and lp_guided (smoothed-dual prices steer its "
        "construction and give the bound) on the other core where it fits; they get the "
        "budget but a margin for the report",
        (Phase((Slot("greedy"), Slot("lp_guided")), Budget(0.85, min_s=0.3)), _REST),
        solver_sets=(
            frozenset({"greedy"}),
            frozenset({"greedy", "lp_bound"}),
            frozenset({"greedy", "lp_guided"}),
        ),
    ),
    Strategy(
        "small exact and Pareto",
        "greedy first so there is a plan and a hint; then the exact solvers side by "
        "side, NSGA-II joining halfway seeded with their best plans",
        (Phase((Slot("greedy"),), Budget(0.12, min_s=0.3)), _REST),
    ),
)


def strategy_for(problem: CompiledProblem, names: list[str]) -> Strategy:
    """The first strategy of STRATEGIES that serves this problem and solver set."""
    wanted = frozenset(names)
    for strategy in STRATEGIES:
        if strategy.solver_sets and wanted not in strategy.solver_sets:
            continue
        if strategy.classic_gap_only and not problem.is_pure_gap():
            continue
        if strategy.workflow_only and problem.workflow is None:
            continue
        return strategy
    return STRATEGIES[-1]
