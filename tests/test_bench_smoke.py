"""The benchmark scripts stay runnable: their pure helpers behave and every script answers
``--help``. (Running a bench, even ``--quick``, takes a minute — too slow for the suite; the
numbers come from running the scripts themselves, see bench/README.md.)"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench import _common as c

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))


def test_there_are_bench_scripts() -> None:
    assert {p.name for p in SCRIPTS} >= {"api_tickets.py", "sla_sweep.py"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_help(script: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert "usage" in out.stdout.lower() and "--quick" in out.stdout
    assert out.stderr == ""


def test_percentile_matches_linear_interpolation() -> None:
    data = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert c.percentile(data, 0) == 1.0
    assert c.percentile(data, 50) == 3.0
    assert c.percentile(data, 100) == 5.0
    assert c.percentile(data, 25) == 2.0
    assert c.percentile([1.0, 2.0], 99) == pytest.approx(1.99)
    assert c.percentile([7.0], 99) == 7.0
    assert math.isnan(c.percentile([], 50))
    assert c.median([3, 1, 2]) == 2
    with pytest.raises(ValueError):
        c.percentile(data, 101)


def test_percentile_agrees_with_numpy() -> None:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(3)
    data = list(rng.exponential(10, 997))
    for p in (1, 50, 90, 99, 99.9):
        assert c.percentile(data, p) == pytest.approx(float(np.percentile(data, p)))


def test_result_line_is_one_json_object_in_field_order() -> None:
    line = c.result_line("api_tickets", "list_p99_ms", 12.345678, "ms", db="sqlite", tickets=10_000)
    assert "\n" not in line
    record = json.loads(line)
    assert list(record)[:4] == ["bench", "metric", "value", "unit"]
    assert record == {
        "bench": "api_tickets",
        "metric": "list_p99_ms",
        "value": 12.3457,
        "unit": "ms",
        "db": "sqlite",
        "tickets": 10_000,
    }


def test_result_line_edge_cases() -> None:
    assert json.loads(c.result_line("b", "m", float("nan"), "ms"))["value"] is None
    assert json.loads(c.result_line("b", "m", 3, "count", ok=True))["ok"] is True
    with pytest.raises(ValueError):
        c.result_line("", "m", 1, "ms")


def test_emit_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    c.emit("sla_sweep", "sweep_pass_ms", 1.5, "ms", due=100, total=1000)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and json.loads(out[0])["due"] == 100


def test_ratio_never_raises() -> None:
    assert c.ratio(1, 4) == 0.25
    assert math.isnan(c.ratio(1, 0))
    assert math.isnan(c.ratio(float("nan"), 1))


def test_budget_bounds_count_and_time() -> None:
    b = c.Budget(max_count=3, max_seconds=60)
    assert [b.take() for _ in range(5)] == [True, True, True, False, False]
    t = c.Budget(max_count=10**9, max_seconds=0.01)
    n = 0
    while t.take():
        n += 1
    assert 0 < n < 10**9
    with pytest.raises(ValueError):
        c.Budget(max_count=0, max_seconds=1)


def test_free_port_is_loopback_only() -> None:
    port = c.free_port()
    assert 1024 <= port < 65536
    with pytest.raises(ValueError):
        c.free_port("0.0.0.0")


def test_bench_database_names_are_namespaced() -> None:
    name = c.bench_db_name("API run!")
    assert name.startswith("relaydesk_bench_api_run_")
    assert c.bench_db_name("x") != c.bench_db_name("x")


def test_process_memory_of_this_process() -> None:
    import os

    rss, procs = c.tree_rss_mb(os.getpid())
    assert rss > 1 and procs >= 1


def test_sweep_plan_parser_recognises_an_index_range_scan() -> None:
    from bench.sla_sweep import plan_scan

    plan = [
        "Limit  (cost=1.12..50.74 rows=1 width=7080)",
        "  ->  LockRows  (cost=1.12..50.74 rows=1 width=7080)",
        "        ->  Index Scan using ticket_sla_next_event on tickets_ticket  (cost=0.28..8.29 rows=1)",
        "              Index Cond: (sla_next_event_at <= '2026-11-25 18:02:58+00'::timestamp with time zone)",
    ]
    ok, node = plan_scan(plan)
    assert ok and node.startswith("Index Scan using ticket_sla_next_event")
    seq = [
        "Limit",
        "  ->  Seq Scan on tickets_ticket",
        "        Filter: (sla_next_event_at <= now())",
    ]
    assert plan_scan(seq) == (False, "Seq Scan on tickets_ticket")
