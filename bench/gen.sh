#!/usr/bin/env bash
# bench/gen.sh: maximum send rate of `netring gen` vs trafgen on the same veth.
#
#   [nrb-gen-ID] generator -> nrbgID <==veth==> nrbcID [nrb-cap-ID]   (no receiver process)
#
# Both generators send the same 1024 IPv4/UDP flows of FRAME-byte frames
# (src 10.99.0.1-16 x sport 10000-10063 -> 10.99.1.1:5001, fill 0x5a) as fast
# as they can, through a TX ring with the qdisc bypassed. The rate is counted
# on the receiving side only, by interface statistics: rx_packets of the peer
# between WARMUP and WARMUP+DURATION seconds after the generator started
# (startup excluded). Repetitions alternate the order of the generators so a
# slow drift of the (shared) machine hits both alike; medians and the ratio
# netring / trafgen are printed, with min-max to show the noise.
# Because the rate on a shared machine mostly measures how much CPU the
# generator got, the CPU time used in the window per packet is reported too:
# user+system of all the generator's threads (from /proc; softirq work done in
# their context included) plus the ksoftirqd threads (receive work the kernel
# deferred out of it): the cost per frame, which other load does not move much. A canary (fixed CPU work on GEN_CPU, bench/canary.c)
# before each run shows how fast the vCPU was.
#
# Generators (GENS):
#   trafgen     trafgen -P 1 (one process)
#   netring     netring gen --workers 1
#   trafgen2    trafgen -P 2           (both CPUs)
#   netring2    netring gen --workers 2
# Modes (MODES): pinned = the generator on cpu GEN_CPU (taskset; for the
#   2-process variants the mask GEN_CPUS), unpinned = the scheduler decides,
#   duel = the first two generators of GENS at the same time, both pinned to
#   GEN_CPU (GEN_CPUS for the 2-process variants), each on its own veth pair (a second pair in the same namespaces;
#   the pairs swap every repetition): the scheduler splits that CPU between
#   them, so whatever else loads the machine hits both alike and the ratio of
#   their rates is the ratio of their efficiency.
#
# Knobs (environment):
#   DURATION=5 WARMUP=1 REPS=3 FRAME=64 FLOWS=1024 GENS="trafgen netring"
#   MODES="pinned" GEN_CPU=0 GEN_CPUS=0-1 BATCH= (netring --batch) NODE=node
#   OUT=/tmp/netring-bench/gen-<timestamp>
# Quick check: DURATION=2 WARMUP=1 REPS=1 bash bench/gen.sh
# Output: $OUT/runs.csv and the table on stdout ($OUT/table.md).
# Needs root, trafgen (netsniff-ng package), ip, ethtool, taskset, python3 and
# a build (npm run build).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/netlab.sh"

DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
REPS=${REPS:-3}
FRAME=${FRAME:-64}
FLOWS=${FLOWS:-1024}
GENS=${GENS:-"trafgen netring"}
MODES=${MODES:-pinned}
GEN_CPU=${GEN_CPU:-0}
GEN_CPUS=${GEN_CPUS:-0-1}
BATCH=${BATCH:-}
NODE=${NODE:-node}
OUT=${OUT:-/tmp/netring-bench/gen-$(date +%Y%m%d-%H%M%S)}

[ "$(id -u)" = 0 ] || { echo "gen.sh: needs root (AF_PACKET, namespaces)" >&2; exit 2; }
for t in trafgen python3 ip ethtool taskset; do
  command -v "$t" >/dev/null || { echo "gen.sh: $t not found (apt-get install netsniff-ng python3 iproute2 ethtool util-linux)" >&2; exit 2; }
done
CLI=$ROOT/dist/src/cli/main.js
[ -f "$CLI" ] || { echo "gen.sh: no build found: run npm run build first" >&2; exit 2; }
if [ "$FLOWS" -gt 1024 ] || [ $((FLOWS % 64)) -ne 0 ]; then echo "gen.sh: FLOWS must be a multiple of 64 up to 1024" >&2; exit 2; fi
mkdir -p "$OUT"
CSV=$OUT/runs.csv
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

GPID="" DPIDS=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p
  for p in $GPID $DPIDS; do
    if kill -0 -- -"$p" 2>/dev/null; then kill -INT -- -"$p" 2>/dev/null; sleep 1; kill -KILL -- -"$p" 2>/dev/null; fi
  done
  netlab_wmem_restore
  netlab_down
  exit $rc
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

netlab_down
netlab_up || { log "network setup failed"; exit 1; }
netlab_flows "$FRAME" "$FLOWS" > "$OUT/flows.cfg" || exit 1
netlab_wmem_boost
{
  echo "date: $(date -Is)"
  echo "kernel: $(uname -r)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
  echo "trafgen: $(trafgen -v 2>&1 | head -1)"
  echo "node: $($NODE --version)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "params: DURATION=$DURATION WARMUP=$WARMUP REPS=$REPS FRAME=$FRAME FLOWS=$FLOWS GENS='$GENS' MODES='$MODES' GEN_CPU=$GEN_CPU GEN_CPUS=$GEN_CPUS BATCH=$BATCH"
} | tee "$OUT/env.txt" >&2

gen_cmd() {  # gen_cmd NAME [IFACE] -> the command line (without pinning)
  local hi=$((FLOWS / 64)) ifc=${2:-$GEN_IF}
  local nr="$NODE $CLI gen -i $ifc --src-mac $GEN_MAC --dst-mac $DST_MAC --src 10.99.0.1-10.99.0.$hi --sport 10000-10063 --dst 10.99.1.1 --dport 5001 --flows $FLOWS --size $FRAME --payload 0x5a --quiet"
  [ -n "$BATCH" ] && nr="$nr --batch $BATCH"
  case $1 in
    trafgen)  echo "trafgen -o $ifc -i $OUT/flows.cfg -P 1 -Q -C" ;;
    trafgen2) echo "trafgen -o $ifc -i $OUT/flows.cfg -P 2 -Q -C" ;;
    netring)  echo "$nr --workers 1" ;;
    netring2) echo "$nr --workers 2" ;;
    *) return 1 ;;
  esac
}

now() { date +%s.%N; }
rx_of() { netlab_counters "$CAP_NS" "${1:-$CAP_IF}" | cut -d' ' -f1; }

# second veth pair for duel mode, in the same namespaces
DUEL_G=${GEN_IF}d
DUEL_C=${CAP_IF}d
duel_up() {
  ip link add "$DUEL_G" netns "$GEN_NS" type veth peer name "$DUEL_C" netns "$CAP_NS" || return 1
  local ns ifc mac feat
  for end in "$GEN_NS $DUEL_G $GEN_MAC" "$CAP_NS $DUEL_C $CAP_MAC"; do
    read -r ns ifc mac <<<"$end"
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1" 2>/dev/null
    ip -n "$ns" link set "$ifc" address "$mac" mtu 1500
    for feat in rx tx sg tso gso gro lro; do ip netns exec "$ns" ethtool -K "$ifc" "$feat" off >/dev/null 2>&1; done
    ip -n "$ns" link set "$ifc" up || return 1
  done
  sleep 0.5
}
case " $MODES " in *" duel "*) duel_up || { log "second veth pair failed"; exit 1; } ;; esac

BIN=$OUT/bin
mkdir -p "$BIN"
gcc -O1 -o "$BIN/canary" "$HERE/canary.c" || { log "build of canary failed"; exit 1; }
# CPU ticks (user system) of every thread of the process group PGID
group_ticks() {
  local u=0 s=0 p t f
  for p in $(pgrep -g "$1"); do
    for t in /proc/"$p"/task/*/stat; do
      read -r -a f < <(sed 's/^.*) //' "$t" 2>/dev/null) || continue
      u=$((u + ${f[11]:-0})); s=$((s + ${f[12]:-0}))
    done
  done
  echo "$u $s"
}
# CPU ticks (user+system) of the ksoftirqd threads: receive processing the kernel deferred out of the sender's context
ksoft_ticks() {
  local t=0 p f
  for p in $(pgrep -x 'ksoftirqd/[0-9]+'); do
    read -r -a f < <(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null) || continue
    t=$((t + ${f[11]:-0} + ${f[12]:-0}))
  done
  echo "$t"
}
echo "rep,mode,gen,status,window_s,rx_mpps,rx_packets,user_ticks,sys_ticks,ksoftirqd_ticks,ns_per_pkt,cpu_pct,canary_us,load1" > "$CSV"
run_one() {
  local rep=$1 mode=$2 gen=$3 pin="" cmd status=ok
  cmd=$(gen_cmd "$gen") || { log "unknown generator $gen"; return; }
  if [ "$mode" = pinned ]; then
    case $gen in *2) pin="taskset -c $GEN_CPUS" ;; *) pin="taskset -c $GEN_CPU" ;; esac
  fi
  local log_f="$OUT/r${rep}_${mode}_${gen}.log" canary
  canary=$(taskset -c "$GEN_CPU" "$BIN/canary" 10000000)
  # own process group (setsid): the signal reaches trafgen's forked workers too
  # shellcheck disable=SC2086
  setsid ip netns exec "$GEN_NS" $pin $cmd > "$log_f" 2>&1 &
  GPID=$!
  sleep "$WARMUP"
  local a ta b tb c0 c1 k0 k1
  c0=$(group_ticks "$GPID"); k0=$(ksoft_ticks); a=$(rx_of); ta=$(now)
  sleep "$DURATION"
  c1=$(group_ticks "$GPID"); k1=$(ksoft_ticks); b=$(rx_of); tb=$(now)
  kill -INT -- -"$GPID" 2>/dev/null
  local i
  for ((i = 0; i < 100; i++)); do kill -0 -- -"$GPID" 2>/dev/null || break; sleep 0.05; done
  kill -0 -- -"$GPID" 2>/dev/null && { kill -KILL -- -"$GPID" 2>/dev/null; status=KILLED; }
  wait "$GPID" 2>/dev/null
  GPID=""
  [ "$b" -gt "$a" ] || { status=NO_TRAFFIC; log "r$rep $mode $gen: no traffic: $(tail -c 300 "$log_f" | tr '\n' ' ')"; }
  python3 - "$rep" "$mode" "$gen" "$status" "$a" "$b" "$ta" "$tb" "$c0" "$c1" "$k0" "$k1" "$canary" "$(cut -d' ' -f1 /proc/loadavg)" "$(getconf CLK_TCK)" >> "$CSV" <<'PY'
import sys
rep, mode, gen, status, a, b, ta, tb, c0, c1, k0, k1, canary, load, hz = sys.argv[1:]
w = float(tb) - float(ta)
n = int(b) - int(a)
(u0, s0), (u1, s1) = (map(int, c.split()) for c in (c0, c1))
du, ds, dk = u1 - u0, s1 - s0, int(k1) - int(k0)
cpu = (du + ds + dk) / int(hz)
nspp = f"{cpu * 1e9 / n:.0f}" if n > 0 else ""
print(f"{rep},{mode},{gen},{status},{w:.3f},{n / w / 1e6:.4f},{n},{du},{ds},{dk},{nspp},{100 * cpu / w:.0f},{canary},{load}")
PY
  log "r$rep $mode $gen: $(tail -1 "$CSV" | cut -d, -f6) Mpps, $(tail -1 "$CSV" | cut -d, -f11) ns/pkt CPU (ksoftirqd ticks $(tail -1 "$CSV" | cut -d, -f10)), $(tail -1 "$CSV" | cut -d, -f12)% of a CPU, canary $canary us"
  sleep 1
}

run_duel() {
  local rep=$1 ga gb
  read -r ga gb _ <<<"$GENS"
  [ -n "$gb" ] || { log "duel needs two generators in GENS"; return; }
  # swap which pair each generator uses every repetition
  local ia=$GEN_IF ca=$CAP_IF ib=$DUEL_G cb=$DUEL_C
  (( rep % 2 == 0 )) && { ia=$DUEL_G; ca=$DUEL_C; ib=$GEN_IF; cb=$CAP_IF; }
  local canary pa pb cmd cpus=$GEN_CPU
  case $ga in *2) cpus=$GEN_CPUS ;; esac
  canary=$(taskset -c "$GEN_CPU" "$BIN/canary" 10000000)
  cmd=$(gen_cmd "$ga" "$ia")
  # shellcheck disable=SC2086
  setsid ip netns exec "$GEN_NS" taskset -c "$cpus" $cmd > "$OUT/r${rep}_duel_$ga.log" 2>&1 &
  pa=$!
  cmd=$(gen_cmd "$gb" "$ib")
  # shellcheck disable=SC2086
  setsid ip netns exec "$GEN_NS" taskset -c "$cpus" $cmd > "$OUT/r${rep}_duel_$gb.log" 2>&1 &
  pb=$!
  DPIDS="$pa $pb"
  sleep "$WARMUP"
  local a0 b0 a1 b1 ta tb ca0 cb0 ca1 cb1 k0 k1
  ca0=$(group_ticks "$pa"); cb0=$(group_ticks "$pb"); k0=$(ksoft_ticks); a0=$(rx_of "$ca"); b0=$(rx_of "$cb"); ta=$(now)
  sleep "$DURATION"
  ca1=$(group_ticks "$pa"); cb1=$(group_ticks "$pb"); k1=$(ksoft_ticks); a1=$(rx_of "$ca"); b1=$(rx_of "$cb"); tb=$(now)
  local p
  for p in $pa $pb; do kill -INT -- -"$p" 2>/dev/null; done
  sleep 1
  for p in $pa $pb; do kill -KILL -- -"$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  DPIDS=""
  python3 - "$rep" "$ga" "$gb" "$a0" "$a1" "$b0" "$b1" "$ta" "$tb" "$ca0" "$ca1" "$cb0" "$cb1" "$k0" "$k1" "$canary" "$(cut -d' ' -f1 /proc/loadavg)" "$(getconf CLK_TCK)" >> "$CSV" <<'PY'
import sys
rep, ga, gb, a0, a1, b0, b1, ta, tb, ca0, ca1, cb0, cb1, k0, k1, canary, load, hz = sys.argv[1:]
w = float(tb) - float(ta)
dk = int(k1) - int(k0)
for gen, x0, x1, c0, c1 in ((ga, a0, a1, ca0, ca1), (gb, b0, b1, cb0, cb1)):
    n = int(x1) - int(x0)
    (u0, s0), (u1, s1) = (map(int, c.split()) for c in (c0, c1))
    cpu = (u1 - u0 + s1 - s0) / int(hz)
    status = "ok" if n > 0 else "NO_TRAFFIC"
    nspp = f"{cpu * 1e9 / n:.0f}" if n > 0 else ""
    print(f"{rep},duel,{gen},{status},{w:.3f},{n / w / 1e6:.4f},{n},{u1 - u0},{s1 - s0},{dk},{nspp},{100 * cpu / w:.0f},{canary},{load}")
PY
  log "r$rep duel: $(tail -2 "$CSV" | cut -d, -f3,6,11 | tr '\n' ' ')(gen, Mpps, ns/pkt)"
  sleep 1
}

for ((rep = 1; rep <= REPS; rep++)); do
  for mode in $MODES; do
    if [ "$mode" = duel ]; then run_duel "$rep"; continue; fi
    order=$GENS
    # alternate the order every repetition
    (( rep % 2 == 0 )) && order=$(echo "$GENS" | tr ' ' '\n' | tac | tr '\n' ' ')
    for gen in $order; do run_one "$rep" "$mode" "$gen"; done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/env.txt" >&2

python3 - "$CSV" "$FRAME" <<'PY' | tee "$OUT/table.md"
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"]
frame = sys.argv[2]
by = {}
for r in rows:
    by.setdefault((r["mode"], r["gen"]), []).append(r)
med = lambda rs, k: statistics.median(float(r[k]) for r in rs if r[k] != "")
rng = lambda rs, k: (min(float(r[k]) for r in rs if r[k] != ""), max(float(r[k]) for r in rs if r[k] != ""))
print(f"### {frame}-byte frames, received rate and generator CPU per frame (median [min-max] over repetitions)\n")
print("| mode | generator | runs | Mpps | ratio to trafgen | CPU ns/frame | CPU ratio | % of a CPU | canary us |")
print("|---|---|---|---|---|---|---|---|---|")
for (mode, gen), rs in sorted(by.items()):
    base = by.get((mode, "trafgen2" if gen.endswith("2") else "trafgen"))
    m, (lo, hi) = med(rs, "rx_mpps"), rng(rs, "rx_mpps")
    c, (clo, chi) = med(rs, "ns_per_pkt"), rng(rs, "ns_per_pkt")
    ratio = f"{m / med(base, 'rx_mpps'):.2f}x" if base and not gen.startswith("trafgen") else ""
    cratio = f"{c / med(base, 'ns_per_pkt'):.2f}x" if base and not gen.startswith("trafgen") else ""
    print(f"| {mode} | {gen} | {len(rs)} | {m:.3f} [{lo:.3f}-{hi:.3f}] | {ratio} | {c:.0f} [{clo:.0f}-{chi:.0f}] | {cratio} | {med(rs, 'cpu_pct'):.0f} | {med(rs, 'canary_us'):.0f} |")
PY
