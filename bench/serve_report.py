"""bench/results/serve-load.md: the serve step's figures, the three servers side by side."""

from __future__ import annotations

from typing import Any

GIB_MIB = 1024.0
SERVERS = ("rkg serve", "Oxigraph", "Virtuoso")


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def mib(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} MiB"


def yes(ok: bool | None) -> str:
    return "" if ok is None else ("yes" if ok else "**no**")


def _cells(size: dict[str, Any], get: Any) -> list[str]:
    out = []
    for name in SERVERS:
        info = size["servers"].get(name, {})
        out.append(get(info) if info.get("status") == "ok" else info.get("status", "—"))
    return out


def table(size: dict[str, Any]) -> list[str]:
    """One size: one row a metric, one column a server, the target of `rkg serve` and met."""
    s = size["servers"]
    ours = s.get("rkg serve", {})
    ok = ours.get("status") == "ok"
    peers = [s[p] for p in ("Oxigraph", "Virtuoso") if s.get(p, {}).get("status") == "ok"]
    n = f"{size['size']:,}"
    dur = f"{size['clients']} clients, {size['seconds']:g} s"
    mem = ours.get("memory", {})
    forms, preview = size.get("forms", {}), size.get("preview", {})
    rows: list[tuple[str, list[str], str, bool | None]] = [
        (f"requests ({dur})", _cells(size, lambda i: f"{i['requests']:,}"), "", None),
        (
            "errors",
            _cells(size, lambda i: f"{i['errors']}"),
            "0",
            ok and ours.get("errors") == 0 if ok else None,
        ),
        (
            "throughput",
            _cells(size, lambda i: f"{i['throughput']:.1f} req/s"),
            "≥ each peer",
            ok and all(ours["throughput"] >= p["throughput"] for p in peers) if ok else None,
        ),
        (
            "latency p50",
            _cells(size, lambda i: ms(i["p50_s"])),
            "≤ 50 ms",
            ok and (ours.get("p50_s") or 1e9) <= 0.050 if ok else None,
        ),
        (
            "latency p99",
            _cells(size, lambda i: ms(i["p99_s"])),
            "≤ 300 ms",
            ok and (ours.get("p99_s") or 1e9) <= 0.300 if ok else None,
        ),
        (
            "server CPU (user + sys, process tree) during the run; per answered request",
            _cells(
                size,
                lambda i: (
                    f"{i['cpu_s']:.1f} s; {ms(i['cpu_per_request_s'])}" if "cpu_s" in i else "—"
                ),
            ),
            "",
            None,
        ),
        (
            "start-up: process start → first answer (rkg serve: store present; peers: data loaded)",
            _cells(size, lambda i: ms(i.get("startup_s"))),
            "≤ 3 s",
            ok and ours.get("startup_s", 1e9) <= 3 if ok else None,
        ),
        (
            "loading the dump (peers; rkg serve reads its store)",
            _cells(size, lambda i: ms(i.get("load_s")) if "load_s" in i else "—"),
            "",
            None,
        ),
        (
            "peak RSS, sum over the process tree",
            _cells(
                size,
                lambda i: f"{mib(i['memory']['rss_mib'])} ({i['memory']['processes']} proc.)",
            ),
            "≤ 2 GiB",
            ok and mem.get("rss_mib", 1e9) <= 2 * GIB_MIB if ok else None,
        ),
        (
            "peak PSS, sum over the process tree (shared pages counted once)",
            _cells(size, lambda i: mib(i["memory"]["pss_mib"])),
            "≤ 2 GiB",
            ok and mem.get("pss_mib", 1e9) <= 2 * GIB_MIB if ok else None,
        ),
        (
            "every quad of the dump loaded",
            _cells(size, lambda i: "yes" if i.get("complete") else "**no**"),
            "",
            None,
        ),
        (
            "answers of the warm-up pass unlike rkg serve's (rows, boolean, triples)",
            _cells(size, lambda i: str(len(i.get("answers_differ", {})))),
            "",
            None,
        ),
        (
            "1-min load average before / after the run",
            _cells(size, lambda i: f"{i['load_avg_before_load']} / {i['load_avg_after_load']}"),
            "",
            None,
        ),
    ]
    if forms:
        first, worst = forms.get("first_p50_s"), forms.get("worst_first")
        src = forms.get("source", "")
        rows.append(
            (
                f"form answer, first ask (not cached), p50 over the stored questions: "
                f"`/queries/NAME.json`, {src}",
                [ms(first), "", ""],
                "≤ 100 ms",
                first is not None and first <= 0.100 and not forms.get("errors"),
            )
        )
        if worst:
            rows.append(
                (f"slowest question, first ask ({worst[0]})", [ms(worst[1]), "", ""], "", None)
            )
        rows.append(
            (
                f"form answer repeated (the server's answer cache), p50 of "
                f"{forms.get('rounds')} × each question",
                [ms(forms.get("repeat_p50_s")), "", ""],
                "",
                None,
            )
        )
    if preview:
        shown = ", ".join(ms(t) if t is not None else "not seen" for t in preview["seconds"])
        top = preview.get("max_s")
        rows.append(
            (
                f"edited title visible on its page (`--watch`; {len(preview['seconds'])} edits: "
                f"{shown})",
                [ms(top) if top is not None else f"not within {preview['cap_s']:g} s", "", ""],
                "≤ 2 s (slowest)",
                top is not None and top <= 2,
            )
        )
    lines = []
    for metric, cells, target, met in rows:
        lines.append(f"| {n} | {metric} | {' | '.join(cells)} | {target} | {yes(met)} |")
    return lines


def per_request(size: dict[str, Any]) -> list[str]:
    """p50 per request of the mix, and the warm-up answer's size, per server."""
    s = size["servers"]
    names = [m["name"] for m in size.get("mix", [])]
    lines = [
        f"| {size['size']:,} | {name} | "
        + " | ".join(
            (
                f"{ms(info.get('by_name', {}).get(name, {}).get('p50_s'))} "
                f"({info.get('by_name', {}).get(name, {}).get('n', 0)}; "
                f"{info.get('answers', {}).get(name)})"
            )
            if info.get("status") == "ok"
            else "—"
            for info in (s.get(x, {}) for x in SERVERS)
        )
        + " |"
        for name in names
    ]
    return lines


def markdown(sizes: list[dict[str, Any]], runs: list[dict[str, Any]]) -> str:
    lines = [
        "# Serve benchmark (issues 13 and 14)",
        "",
        *(
            f"- sizes {', '.join(f'{x:,}' for x in r['sizes'])}: `{r['command']}` — {r['date']}, "
            f"{r['machine']}, Python {r['python']}, code {r.get('code', '?')}; "
            f"{r.get('versions', '')}"
            for r in runs
        ),
        "",
        "Each server alone on the machine's 2 cores (shared with other work: see the load "
        "average), on the same catalog: `rkg serve ROOT` (live preview on, as a curator starts "
        "it; its store present), Oxigraph `serve-read-only --union-default-graph` and a private "
        "Virtuoso 7, both loaded from the release dump (`write_dumps`' catalog.trig as "
        "N-Quads). The clients POST the same texts to each: every stored question bound with "
        "its example, an ASK and a DESCRIBE of five resources (20 requests in turn, each client "
        "from its own offset), one keep-alive connection a client. Latency is the client's, "
        "request sent → last byte read. Every server has the same query time limit "
        f"({sizes[0].get('timeout_s', 10):g} s: rkg serve's default). Virtuoso's DESCRIBE "
        "answers with its own kind of description, so its triple counts differ. Targets are "
        "issue 13's and 14's for `rkg serve` at 100k resources; *met* is shown at every size.",
        "",
        "| size | metric | rkg serve | Oxigraph | Virtuoso | target (rkg serve) | met |",
        "|---:|---|---:|---:|---:|---|:-:|",
    ]
    for size in sizes:
        lines += table(size)
    lines += [
        "",
        "## Per request",
        "",
        "p50 latency under load (requests answered; the warm-up answer: rows of a SELECT, "
        "boolean of an ASK, triples of a DESCRIBE, or why it failed).",
        "",
        "| size | request | rkg serve | Oxigraph | Virtuoso |",
        "|---:|---|---:|---:|---:|",
    ]
    for size in sizes:
        lines += per_request(size)
    lines.append("")
    for size in sizes:
        for name, info in size["servers"].items():
            kinds = info.get("error_kinds") or {}
            if kinds:
                samples = info.get("error_samples") or {}
                lines.append(
                    f"Errors of {name} at {size['size']:,}: "
                    + "; ".join(
                        f"{k} × {v}"
                        + (f" (first answer: `{' '.join(samples[k].split())[:160]}`)"
                           if samples.get(k) else "")
                        for k, v in kinds.items()
                    )
                    + "."
                )  # fmt: skip
        forms = size.get("forms", {})
        if forms.get("first_s"):
            lines.append(
                f"Form answers at {size['size']:,}, first ask (server time): "
                + ", ".join(f"{k} {ms(v)}" for k, v in forms["first_s"].items())
                + (f"; errors: {forms['errors']}" if forms.get("errors") else "")
                + "."
            )
    return "\n".join(lines) + "\n"
