"""Regenerate the bundled example problems (deterministic): `python examples/make_examples.py`.

mixed.json: a realistic pool (LLM agents, GPU boxes, CPU workers) and 300 tasks.
pareto_small.json: a small cost-versus-balance trade-off.
gap_c0560.txt/.json: a type-C GAP instance from the published generator (seeded).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def _mixed(seed: int = 7) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    agents = []
    kinds = [
        ("llm", ["llm", "python"], {"cpu": 8, "mem": 32, "gpu": 0}, 1.0, 2.0),
        ("gpu", ["gpu", "python", "llm"], {"cpu": 16, "mem": 64, "gpu": 4}, 1.6, 5.0),
        ("cpu", ["python", "web"], {"cpu": 8, "mem": 16, "gpu": 0}, 0.8, 0.8),
    ]
    for i in range(30):
        name, caps, cap, speed, rate = kinds[i % 3]
        jitter = float(rng.uniform(0.8, 1.25))
        agents.append(
            {
                "id": f"{name}-{i:02d}",
                "capacity": {k: float(round(v * jitter, 1)) for k, v in cap.items()},
                "speed": round(speed * jitter, 2),
                "cost_rate": round(rate * float(rng.uniform(0.9, 1.1)), 3),
                "capabilities": caps,
                "max_tasks": 20,
            }
        )
    priorities = ["critical", "high", "normal", "low"]
    tasks = []
    for j in range(300):
        kind = rng.choice(
            ["chat", "embed", "train", "scrape", "report"], p=[0.35, 0.2, 0.1, 0.2, 0.15]
        )
        requires = {"chat": ["llm"], "embed": ["python"], "train": ["gpu"], "scrape": ["web"]}.get(
            str(kind), []
        )
        demand = {
            "cpu": float(round(rng.uniform(0.2, 1.5), 2)),
            "mem": float(round(rng.uniform(0.5, 4.0), 2)),
        }
        if kind == "train":
            demand["gpu"] = 1.0
        work = float(round(rng.pareto(2.5) * 20 + 5, 1))
        task: dict[str, object] = {
            "id": f"{kind}-{j:03d}",
            "kind": str(kind),
            "demand": demand,
            "work": work,
            "priority": priorities[int(rng.choice(4, p=[0.05, 0.2, 0.5, 0.25]))],
            "requires": requires,
            "tenant": f"team-{int(rng.integers(0, 4))}",
        }
        if rng.random() < 0.3:
            task["deadline"] = float(round(rng.uniform(60, 400), 0))
        tasks.append(task)
    groups = [
        {"kind": "anti_affinity", "name": "replicas", "tasks": [tasks[i]["id"] for i in (0, 1, 2)]},
        {"kind": "co_location", "name": "pipeline", "tasks": [tasks[i]["id"] for i in (10, 11)]},
    ]
    return {
        "name": "mixed-pool",
        "resources": ["cpu", "mem", "gpu"],
        "agents": agents,
        "tasks": tasks,
        "groups": groups,
        "objectives": {
            "mode": "weighted",
            "weights": {"cost": 1.0, "makespan": 0.5, "tardiness": 0.01},
        },
        "options": {"time_limit_s": 10},
    }


def _pareto(seed: int = 3) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    agents = [
        {
            "id": f"a{i}",
            "capacity": {"cpu": 10.0},
            "speed": float(round(rng.uniform(0.5, 2.0), 2)),
            "cost_rate": float(round(rng.uniform(0.5, 3.0), 2)),
        }
        for i in range(6)
    ]
    tasks = [
        {
            "id": f"t{j}",
            "demand": {"cpu": float(round(rng.uniform(0.5, 2.5), 1))},
            "work": float(round(rng.uniform(1, 10), 1)),
        }
        for j in range(30)
    ]
    return {
        "name": "pareto-small",
        "resources": ["cpu"],
        "agents": agents,
        "tasks": tasks,
        "objectives": {"mode": "pareto", "pareto": ["cost", "makespan"]},
        "options": {"time_limit_s": 8},
    }


def _gap_type_c(m: int, n: int, seed: int) -> str:
    """Chu & Beasley type C: a~U[5,25], c~U[10,50], b_i = 0.8 * sum_j a_ij / m."""
    rng = np.random.default_rng(seed)
    a = rng.integers(5, 26, size=(m, n))
    c = rng.integers(10, 51, size=(m, n))
    b = np.floor(0.8 * a.sum(axis=1) / m).astype(int)
    lines = [f"{m} {n}"]
    lines += [" ".join(map(str, row)) for row in c]
    lines += [" ".join(map(str, row)) for row in a]
    lines.append(" ".join(map(str, b)))
    return "\n".join(lines) + "\n"


def main() -> None:
    (HERE / "mixed.json").write_text(json.dumps(_mixed(), indent=1))
    (HERE / "pareto_small.json").write_text(json.dumps(_pareto(), indent=1))
    (HERE / "gap_c0560.txt").write_text(_gap_type_c(5, 60, seed=11))


if __name__ == "__main__":
    main()
