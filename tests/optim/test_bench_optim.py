"""The optimizer benchmark stays runnable (a quick run; timings are not checked)."""

import json
import runpy
import sys


def test_bench_optim_runs(tmp_path, monkeypatch, capsys):
    out = tmp_path / "bench.json"
    monkeypatch.setattr(sys, "argv", ["bench_optim.py", "--quick", "--json", str(out)])
    try:
        runpy.run_path("bench/bench_optim.py", run_name="__main__")
    except SystemExit as e:
        assert e.code == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["case"].split(" (")[0] for r in rows] == [
        f"{o} {s}" for s in ("mixed", "gpt") for o in ("Adam", "AdamW", "SGD momentum")]
    assert all(r["ratio"] > 0 for r in rows)
    assert "ratio" in capsys.readouterr().out
