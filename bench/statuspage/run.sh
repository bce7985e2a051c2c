#!/usr/bin/env bash
# Status page vs nginx, side by side in one run: wrk with 256 connections against `/` and
# `/api/v2/summary.json` of the service (granian and uvicorn), then against nginx serving
# the same bytes as static files on loopback. Writes the `## Status page` section of
# docs/benchmarks.md. The targets take turns for ROUNDS rounds and the median is reported,
# because other work on a shared machine skews any single run.
# Usage: bench/statuspage/run.sh [seconds per run, default 5] [rounds, default 5]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=${PYTHON:-$ROOT/.venv/bin/python}
DURATION=${1:-5}
ROUNDS=${2:-5}
WRK_ARGS=(-t1 -c256 "-d${DURATION}s" --latency)
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install nginx wrk)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/statuspage-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat > "$WORK/statuspage.yaml" <<'YAML'
page: {id: bench, name: Benchmark Status, url: "https://status.example.com", time_zone: Etc/UTC}
groups:
  - id: core
    name: Core platform
    components:
      - {id: api, name: Public API, services: [api]}
      - {id: web, name: Web app, services: [web]}
      - {id: auth, name: Login, services: [auth]}
components:
  - {id: db, name: Customer database, services: [postgres]}
YAML

start_service() {  # $1 = server, $2 = name; sets PORT (no subshell: the pid lands in PIDS)
  local name=${2:-$1}
  PORT=$(free_port)
  env "${EXTRA_ENV[@]}" STATUSPAGE_DATABASE_URL="sqlite:///$WORK/$name.db" STATUSPAGE_API_TOKEN=bench \
    "$PY" -m statuspage serve --config "$WORK/statuspage.yaml" --host 127.0.0.1 \
    --port "$PORT" --server "$1" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null || {
    echo "the $name server did not start; log:" >&2; cat "$WORK/$name.log" >&2; exit 1; }
  # An open incident makes the page realistic (and larger than an all-green page).
  curl -fs -XPOST -H 'authorization: Bearer bench' "http://127.0.0.1:$PORT/api/v1/incidents" \
    -d '{"name":"Elevated error rates","body":"We are investigating.","components":["api"],"impact":"major"}' >/dev/null
}

EXTRA_ENV=()
start_service granian; GRANIAN=$PORT
start_service uvicorn; UVICORN=$PORT

# "During an incident": the same granian service with SUBSCRIBERS confirmed e-mail
# subscribers and a real SMTP sink; while wrk runs against it, incident_driver.py changes
# the status every second through the Alertmanager webhook (each change re-renders the page
# and queues one mail per subscriber, which the leader sends).
SUBSCRIBERS=${SUBSCRIBERS:-200}
SMTP=$(free_port)
"$PY" -m aiosmtpd -n -c aiosmtpd.handlers.Sink -l "127.0.0.1:$SMTP" >"$WORK/smtp.log" 2>&1 &
PIDS+=($!)
DRIVER="$ROOT/bench/statuspage/incident_driver.py"
"$PY" "$DRIVER" seed "sqlite:///$WORK/incident.db" "$WORK/statuspage.yaml" "$SUBSCRIBERS"
EXTRA_ENV=(STATUSPAGE_SMTP_URL="smtp://127.0.0.1:$SMTP" STATUSPAGE_MAIL_FROM=status@example.com)
start_service granian incident; INCIDENT=$PORT
EXTRA_ENV=()

chmod 755 "$WORK"
mkdir -p "$WORK/www/api/v2"
curl -fs "http://127.0.0.1:$GRANIAN/" -o "$WORK/www/index.html"
curl -fs "http://127.0.0.1:$GRANIAN/api/v2/summary.json" -o "$WORK/www/api/v2/summary.json"
NGINX=$(free_port)
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  types { text/html html; application/json json; }
  server { listen 127.0.0.1:$NGINX; root $WORK/www; index index.html; }
}
CONF
mkdir -p "$WORK/tmp"; chmod -R a+rX "$WORK/www"
nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
sleep 0.3

BARE=$(free_port)
BENCH_WWW="$WORK/www" "$ROOT/.venv/bin/granian" --interface rsgi --host 127.0.0.1 --port "$BARE" \
  --workers 1 --no-ws --http 1 --working-dir "$ROOT/bench/statuspage" bare_rsgi:app \
  >"$WORK/bare.log" 2>&1 &
PIDS+=($!)
sleep 1.5

RESULTS="$WORK/results.tsv"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq "$ROUNDS"); do
for path in / /api/v2/summary.json; do
  for target in "nginx:$NGINX" "granian:$GRANIAN" "uvicorn:$UVICORN" "bare:$BARE" \
      "incident:$INCIDENT"; do
    name=${target%%:*}; port=${target##*:}
    echo "==> round $round: $name $path" >&2
    if [ "$name" = incident ]; then
      rm -f "$WORK/driver.ready"
      "$PY" "$DRIVER" drive "http://127.0.0.1:$port" bench "$WORK/driver.ready" \
        >>"$WORK/driver.log" 2>&1 &
      DRIVER_PID=$!
      until [ -e "$WORK/driver.ready" ]; do sleep 0.05; done
    fi
    wrk "${WRK_ARGS[@]}" "http://127.0.0.1:$port$path" >"$WORK/wrk.out"
    if [ "$name" = incident ]; then kill -TERM "$DRIVER_PID"; wait "$DRIVER_PID" || true; fi
    cat "$WORK/wrk.out" >&2
    "$PY" - "$name" "$path" "$WORK/wrk.out" >>"$RESULTS" <<'PYEOF'
import re, sys
name, path, out = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
p99_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
print(f"{name}\t{path}\t{rps:.0f}\t{p99_ms:.2f}\t{errors.group(0) if errors else ''}")
PYEOF
  done
done
done

sleep 3  # let the leader finish sending what the last incident run queued
CHANGES=$(awk '{s += $1} END {print s + 0}' "$WORK/driver.log")
read -r SENT DUE < <("$PY" "$DRIVER" sent "sqlite:///$WORK/incident.db")
"$PY" - "$RESULTS" "${WRK_ARGS[*]}" "$DURATION" "$ROUNDS" "$LOAD_BEFORE" \
  "$SUBSCRIBERS" "$CHANGES" "$SENT" "$DUE" <<'PYEOF'
import os, re, statistics, subprocess, sys
from datetime import datetime, timezone
from pathlib import Path

results_path, wrk_args, duration, rounds, load_before = sys.argv[1:6]
subscribers, changes, sent, due = sys.argv[6:10]
load_after = " ".join(open("/proc/loadavg").read().split()[:3])
rows = [line.split("\t") for line in open(results_path).read().splitlines()]
runs: dict[tuple[str, str], list[list[str]]] = {}
for r in rows:
    runs.setdefault((r[0], r[1]), []).append(r)


def median_of(name: str, path: str, column: int) -> float:
    return statistics.median(float(r[column]) for r in runs[(name, path)])


def median_ratio(name: str, path: str, column: int) -> float:
    # Each round's ratio compares runs made seconds apart, under the same outside load.
    pairs = zip(runs[(name, path)], runs[("nginx", path)], strict=True)
    return statistics.median(float(a[column]) / float(b[column]) for a, b in pairs)


nginx_version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
lines = [
    "## Status page",
    "",
    f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs ({cpu}), "
    f"{nginx_version.replace('nginx version: ', '')}, wrk and the servers sharing the machine",
    f"(load average {load_before} before, {load_after} after: other work was running).",
    *(["**The load was above the number of CPUs: these numbers are noise, not a verdict on",
       "the aims; re-run `make bench` on a quiet machine.**"]
      if float(load_before.split()[0]) > (os.cpu_count() or 1) else []),
    "Command (from the repository root):",
    "",
    "```sh",
    f"bench/statuspage/run.sh {duration} {rounds}",
    f"# = wrk {wrk_args} http://127.0.0.1:PORT/PATH per target and path, {rounds} rounds",
    "```",
    "",
    "The service runs `statuspage serve` with one worker, SQLite, and an open incident on the",
    "page; nginx (`worker_processes 1`, access log off) serves the very same bytes, fetched",
    "from the service, as static files. Each cell is the median over the rounds; a ratio is",
    "the median of each round's service / nginx. The aims (issue 12, `/api/v2/summary.json`):",
    ">= 0.6 for requests/s and <= 2.0 for p99, also during an incident.",
    "The last row of each path is a bare RSGI app on granian returning the same bytes from a",
    "dict (`bench/statuspage/bare_rsgi.py`): the most Python on granian can do here.",
    "",
    "**During an incident** is the granian service while `bench/statuspage/incident_driver.py`",
    "changes the status every second through the Alertmanager webhook (a critical alert",
    "fires, resolves, fires again as a new episode), so the page re-renders every second and",
    f"each change queues a mail for each of {subscribers} confirmed subscribers, sent by the",
    f"leader to a real SMTP sink (aiosmtpd) on loopback: {changes} status changes,",
    f"{int(sent):,} mails sent during the runs and {due} still due 3 s after the last one.",
    "",
    "| Path | Server | Requests/s | p99 (ms) | req/s vs nginx | p99 vs nginx |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
]
for path in ["/", "/api/v2/summary.json"]:
    for name in ["nginx", "granian", "uvicorn", "bare", "incident"]:
        rps, p99 = median_of(name, path, 2), median_of(name, path, 3)
        errors = "; ".join(sorted({r[4] for r in runs[(name, path)] if len(r) > 4 and r[4]}))
        label = {"nginx": "nginx (static files)", "granian": "statuspage, granian (default)",
                 "uvicorn": "statuspage, uvicorn",
                 "bare": "bare RSGI app on granian (ceiling)",
                 "incident": "statuspage, granian, **during an incident**"}[name]
        note = f" ({errors})" if errors else ""
        lines.append(
            f"| `{path}` | {label}{note} | {rps:,.0f} | {p99:.2f} | {median_ratio(name, path, 2):.2f} | {median_ratio(name, path, 3):.2f} |"
        )
lines.append("")
section = "\n".join(lines) + "\n"

doc = Path("docs/benchmarks.md")
text = doc.read_text() if doc.exists() else "# Benchmarks\n\n"
pattern = re.compile(r"^## Status page\n.*?(?=^## |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda _: section + "\n", text).rstrip() + "\n"
else:
    text = text.rstrip() + "\n\n" + section
doc.write_text(text)
print(section)
PYEOF
