"""The serve step of the benchmark (`bench/run.py --only serve-load`) on a tiny synthetic
catalog (invented by bench/generate.py into a temporary folder), against the real servers:
`rkg serve`, Oxigraph server and a private Virtuoso, 2 s of load each."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "bench" / "run.py"
SERVERS = ("rkg serve", "Oxigraph", "Virtuoso")
#: The metric rows every size of bench/results/serve-load.md has, one column per server.
LOAD_ROWS = (
    "requests",
    "errors",
    "throughput",
    "latency p50",
    "latency p99",
    "server CPU",
    "start-up",
    "peak RSS",
    "peak PSS",
    "every quad of the dump loaded",
)
OURS_ONLY = ("form answer, first ask", "edited title visible")


def _require(binary: str, found: str | None) -> None:
    if found is None:
        message = f"{binary} is not installed"
        if os.environ.get("RKG_REQUIRE_VIRTUOSO") == "1":
            pytest.fail(f"{message}; RKG_REQUIRE_VIRTUOSO=1 requires every server", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def serve_load(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    beside = Path(sys.executable).parent / "oxigraph"
    _require("oxigraph", str(beside) if beside.is_file() else shutil.which("oxigraph"))
    _require("virtuoso-t", shutil.which("virtuoso-t"))
    _require("isql-vt", shutil.which("isql-vt") or shutil.which("isql"))
    work = tmp_path_factory.mktemp("serve-load")
    proc = subprocess.run(
        [sys.executable, str(RUN), "--sizes", "120", "--only", "serve-load"]
        + ["--load-seconds", "2", "--form-rounds", "1", "--code", "worktree"]
        + ["--scratch", str(work / "scratch"), "--results", str(work / "results")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads((work / "results" / "serve-load.json").read_text(encoding="utf-8"))
    return data, (work / "results" / "serve-load.md").read_text(encoding="utf-8")


def test_every_server_answered_the_whole_load_without_an_error(
    serve_load: tuple[dict[str, Any], str],
) -> None:
    data, _ = serve_load
    [size] = data["sizes"]
    assert size["size"] == 120 and size["clients"] == 8
    for name in SERVERS:
        info = size["servers"][name]
        assert info["status"] == "ok", (name, info)
        assert info["requests"] >= len(size["mix"]), (name, info["requests"])
        assert info["errors"] == 0, (name, info["error_kinds"])
        assert info["complete"], (name, info["quads"])  # every quad of the dump is served
        assert 0 < info["p50_s"] <= info["p99_s"]
        assert info["throughput"] > 0 and info["memory"]["rss_mib"] > 0
        assert info["startup_s"] > 0
    # The stored questions (10) plus an ASK and a DESCRIBE of five resources, the same texts for
    # all three; the SELECTs and ASKs answer alike on all three servers.
    kinds = [m["kind"] for m in size["mix"]]
    assert kinds.count("ask") == kinds.count("describe") == 5 and kinds.count("stored") >= 10
    ours = size["servers"]["rkg serve"]["answers"]
    for name in ("Oxigraph", "Virtuoso"):
        theirs = size["servers"][name]["answers"]
        for m in size["mix"]:
            if m["kind"] != "describe":
                assert theirs[m["name"]] == ours[m["name"]], (name, m["name"])
    # rkg serve's forked query workers are part of its process tree.
    assert size["servers"]["rkg serve"]["memory"]["processes"] >= 2
    assert size["forms"]["source"].startswith("Server-Timing") and not size["forms"]["errors"]
    assert size["forms"]["first_p50_s"] is not None
    assert all(t is not None for t in size["preview"]["seconds"]), size["preview"]


def test_the_table_has_every_column_for_every_metric(
    serve_load: tuple[dict[str, Any], str],
) -> None:
    _, md = serve_load
    header = "| size | metric | rkg serve | Oxigraph | Virtuoso | target (rkg serve) | met |"
    assert header in md
    rows = [line.split(" | ") for line in md.splitlines() if line.startswith("| 120 | ")]
    by_metric = {cells[1]: cells for cells in rows}
    for metric in (*LOAD_ROWS, *OURS_ONLY):
        found = [cells for name, cells in by_metric.items() if name.startswith(metric)]
        assert found, f"no row for {metric!r}"
        cells = found[0]
        assert len(cells) == 7, cells
        if metric in OURS_ONLY:
            assert cells[2].strip() not in ("", "—"), cells
        else:
            assert all(c.strip() not in ("", "—", "not run") for c in cells[2:5]), cells
    assert by_metric["errors"][2:5] == ["0", "0", "0"]
    for metric in ("errors", "latency p50", "latency p99", "throughput"):
        assert by_metric[metric][5].strip(), f"{metric}: no target"
        assert by_metric[metric][6].strip(" |") in ("yes", "**no**"), by_metric[metric]
