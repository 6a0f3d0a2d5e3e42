"""The benchmark script stays runnable (a smoke run of one case; timings are not checked)."""

import json
import runpy
import sys


def test_bench_core_runs(tmp_path, monkeypatch, capsys):
    out = tmp_path / "bench.json"
    monkeypatch.setattr(sys, "argv", ["bench_core.py", "--quick", "--filter", "view fwd",
                                      "--json", str(out)])
    try:
        runpy.run_path("bench/bench_core.py", run_name="__main__")
    except SystemExit as e:
        assert e.code == 0
    data = json.loads(out.read_text())
    assert [r["case"] for r in data["rows"]] == ["view fwd+bwd"]
    assert data["rows"][0]["ratio"] > 0
    assert "median ratio" in capsys.readouterr().out

