#!/usr/bin/env bash
# Scheme-server benchmark: wrk against `xlbridge serve` (waitress) on 127.0.0.1, with SQLite
# and PostgreSQL, with 1 and 1,000 published schemes; revalidations (If-None-Match → 304)
# and full downloads (200 with the document) of GET /api/schemes/<id>/latest, each request
# for a scheme picked at random. Prints a markdown table (also written to $OUT).
#
#   benchmarks/server_bench.sh                       # SQLite; PostgreSQL too when
#                                                    # XLBRIDGE_TEST_PG_URL is set
#   DURATION=30s SIZES="1 1000" SERVER_THREADS=8 REPEAT=3 benchmarks/server_bench.sh
#
# Each row is run REPEAT times (alternating 304 and full); the table shows the median run (by
# p99) and the spread of requests/s and p99 over the runs, since a shared 2-core machine is
# noisy.
#
# The PostgreSQL database named by XLBRIDGE_BENCH_PG_URL (default XLBRIDGE_TEST_PG_URL) is
# emptied first. Traffic goes to loopback only; every wrk run stops after $DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
XLB=${XLB:-.venv/bin/xlbridge}
WORK=benchmarks/_work/server
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
SERVER_THREADS=${SERVER_THREADS:-8}
REPEAT=${REPEAT:-3}
PORT=${PORT:-18765}
SIZES=${SIZES:-"1 1000"}
PG_URL=${XLBRIDGE_BENCH_PG_URL:-${XLBRIDGE_TEST_PG_URL:-}}
OUT=${OUT:-$WORK/results.md}
mkdir -p "$WORK"

dbs=${DBS:-sqlite}
if [ -z "${DBS:-}" ] && [ -n "$PG_URL" ]; then dbs="sqlite postgresql"; fi

server_pid=
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
trap stop_server EXIT

{
    echo "wrk ${WRK_THREADS} threads, ${CONNECTIONS} connections, ${DURATION} per run, ${REPEAT} runs" \
         "per row; waitress ${SERVER_THREADS} threads; $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| database | schemes | request | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors | requests/s (runs) | p99 ms (runs) |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|"
} > "$OUT"

for kind in $dbs; do
    if [ "$kind" = sqlite ]; then
        url="sqlite:///$PWD/$WORK/bench.sqlite3"
    else
        url="$PG_URL"
    fi
    for n in $SIZES; do
        rm -f "$WORK"/wrk-"$kind"-"$n"-*.txt
        "$PY" benchmarks/server_seed.py --db "$url" --schemes "$n" --out "$WORK/targets" --fresh
        "$XLB" serve --port "$PORT" --db "$url" --threads "$SERVER_THREADS" \
            > "$WORK/serve.log" 2>&1 &
        server_pid=$!
        for _ in $(seq 1 100); do
            curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
            sleep 0.1
        done
        export BENCH_TARGETS="$WORK/targets.txt"
        BENCH_TOKEN=$(cat "$WORK/targets.token")
        export BENCH_TOKEN
        # the revalidation really is a 304 (a wrong ETag would measure full downloads)
        first=$(head -n 1 "$BENCH_TARGETS")
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BENCH_TOKEN" \
            -H "If-None-Match: \"${first#* }\"" "http://127.0.0.1:$PORT${first%% *}")
        [ "$code" = 304 ] || { echo "expected 304, got $code" >&2; exit 1; }
        # warm-up: every scheme read once into the server's memory
        BENCH_MODE=full wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d3s \
            -s benchmarks/server_wrk.lua "http://127.0.0.1:$PORT" >/dev/null
        for run in $(seq 1 "$REPEAT"); do
            for mode in 304 full; do
                BENCH_MODE=$mode wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
                    -s benchmarks/server_wrk.lua "http://127.0.0.1:$PORT" \
                    > "$WORK/wrk-$kind-$n-$mode-$run.txt"
            done
        done
        for mode in 304 full; do
            "$PY" - "$kind" "$n" "$mode" "$WORK"/wrk-"$kind"-"$n"-"$mode"-*.txt >> "$OUT" <<'PY'
import json, sys
kind, n, mode, *paths = sys.argv[1:]
runs = []
for path in paths:
    line = next(l for l in open(path) if l.startswith("RESULT "))
    runs.append(json.loads(line[len("RESULT "):]))
runs.sort(key=lambda r: r["p99_ms"])
r = runs[len(runs) // 2]  # the median run by p99
what = "revalidation (304)" if mode == "304" else "full download (200)"
if mode != "304":
    what += f", {r['bytes'] / max(r['requests'], 1) / 1024:.1f} KB avg"
rps_runs = ", ".join(f"{x['rps']:,.0f}" for x in sorted(runs, key=lambda x: x["rps"]))
p99_runs = ", ".join(f"{x['p99_ms']:.0f}" for x in runs)
errors = sum(x["socket_errors"] + x["bad_status"] for x in runs)
print(f"| {kind} | {int(n):,} | {what} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | "
      f"{r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.0f} | {errors} | "
      f"{rps_runs} | {p99_runs} |")
PY
        done
        stop_server
    done
done
cat "$OUT"
