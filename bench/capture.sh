#!/usr/bin/env bash
# bench/capture.sh: capture receivers side by side on a veth pair.
#
#   [nrb-gen-ID] generator -> nrbgID <==veth==> nrbcID -> receiver [nrb-cap-ID]
#
# For every repetition > frame size > CPU mode > receiver it starts the
# receiver, lets the generator (GEN=trafgen: trafgen from the netsniff-ng
# package; GEN=netring: `netring gen`, dist/src/cli/main.js) blast the same
# 1024 flows as fast as it can for DURATION seconds from its first frame,
# waits for the receiver to drain, stops it with SIGINT and compares (all
# counts over the whole run, the same counters whichever the generator):
#   received   what the receiver reports it processed
#   delivered  frames the veth delivered to the capture side (rx_packets)
#   drop %     1 - received / delivered
#   ns/pkt     receiver CPU time (all threads, user+system, from
#              /proc/PID/task/*/schedstat; /proc/PID/stat utime+stime kept
#              as a cross-check) from just before the generator starts to the
#              end of the drain, divided by received packets
#   gen Mpps   the generator's rate after its first WARMUP seconds of sending
#              (tx of its veth end; node's start-up is not in the window)
# Modes: pinned = generator on cpu GEN_CPU, receiver on cpu CAP_CPU (taskset);
#        unpinned = the scheduler decides.
# Receivers: netring (count only), netring_touch (reads the 5-tuple),
#   netring_pcapng (PcapngWriter to /dev/null), cli (`netring capture -i IF
#   -w /dev/null`, when dist/src/cli/main.js has it), ring_loop (C TPACKET_V3
#   loop, bench/ring_loop.c), ring_loop_touch, tcpdump (-w /dev/null, 64 MiB
#   buffer), netsniff (netsniff-ng -o /dev/null, 64 MiB ring), the CLI as
#   users run it: cli_q (`capture -q`), cli_pcap (-w /dev/null --format pcap),
#   cli_file / cli_file_pcap (-w a real pcapng / pcap file under DISK),
#   cli_w2 / cli_w2_pcap (--workers 2 -w /dev/null, pcapng / pcap: the merged
#   output, its per-worker parts in the system temp directory), cli_w2_file
#   (--workers 2, one real file per worker), cli_w2_merged (--workers 2, the
#   merged real file, parts next to it), tcpdump_file and netsniff_file (the
#   same real-file destination; DISK=$OUT/disk, emptied after each run), none
#   (generator alone). All rings are 64 MiB, full frames.
#   flows (RECEIVERS=flows = "flows_ipfix softflowd"; not in the default list): `netring
#   flows -q --ipfix` (flows_ipfix; flows_ipfix_w2 with --workers 2) and softflowd (libpcap,
#   -v 10: IPFIX) meter the traffic and export to nfcapd on the capture namespace's
#   loopback (COLLECTOR_PORT=4739; the collector's CPU is not counted). Run it twice:
#   FLOWS=1024 and FLOWS=100000 (distinct flows in the generator's traffic).
#   flows_ipfix_ab: flows_ipfix run from another build, AB_DIST=<its dist directory> (paired
#   A/B runs of two versions: RECEIVERS="flows_ipfix flows_ipfix_ab softflowd").
#   cli_ab, cli_pcap_ab, cli_q_ab: cli, cli_pcap, cli_q run from the AB_DIST build
#   (RECEIVERS="cli cli_ab cli_pcap cli_pcap_ab tcpdump").
#   AF_XDP (not in the default list; RECEIVERS="netring_xdp xsk_loop netring"):
#   netring_xdp (rx-netring --backend xdp: AF_XDP copy mode, queue 0, count
#   only), xsk_loop (C AF_XDP loop, raw syscalls, bench/xsk_loop.c). Both
#   attach an XDP program that redirects every frame of queue 0 to the socket;
#   RX ring XSK_RX, fill ring XSK_FILL (both 8192: netring's defaults), 4 KiB
#   frames, batches of up to 256.
#   pb_xsk: the peerbench suite's libxdp AF_XDP receiver (pb_xsk.c, count
#   only, same rings, native XDP, copy mode, batches of 256), built from
#   PEERBENCH=<directory holding pb_xsk.c and pb_common.h> (needs libxdp and
#   libbpf headers); RECEIVERS="netring_xdp pb_xsk xsk_loop netring".
#   netring_xdp_ab: netring_xdp run from another build, AB_DIST=<its dist directory> (paired
#   A/B runs of two versions: RECEIVERS="netring_xdp netring_xdp_ab pb_xsk").
#
# Knobs (environment):
#   DURATION=10 WARMUP=0.3 DRAIN=0.25 REPS=3 SIZES="64 1514" MODES="pinned unpinned"
#   RECEIVERS="netring netring_pcapng cli ring_loop tcpdump netsniff" (or RECEIVERS=cli: the
#   command-line receivers, cli_q ... cli_w2_merged, beside ring_loop, tcpdump(_file), netsniff(_file))
#   FLOWS=1024 GEN_CPU=0 CAP_CPU=1 OUT=/tmp/netring-bench/<timestamp> NODE=node
#   GEN=trafgen|netring (the traffic source; both send the same frames)
#   GEN_OPTS="" (extra options for `netring gen`, e.g. --no-linear)
#   TRAFGEN_OPTS="" (extra options for trafgen, e.g. "-b 200000pps" to send below the ceiling)
#   XSK_RX=8192 XSK_FILL=8192 (RX and fill ring entries of every AF_XDP receiver)
#   GATE_BUSY=20 GATE_WAIT=120: before each run wait (at most GATE_WAIT s) until
#   no other trafgen or netring benchmark runs and all CPUs together are less
#   than GATE_BUSY % busy over 1 s (the machine is shared); the last busy %
#   seen is kept as bg_busy. GATE_WAIT=0 turns the wait off. A run during which
#   another benchmark was seen anyway (start, middle or end of the window) gets
#   status OVERLAP and is repeated, at most RETRY=2 times.
# Quick check: DURATION=2 REPS=1 bash bench/capture.sh   (~2 min for the 24 runs: 48 s of
# traffic, drains, receiver start-up, 1 s quiet-machine check each; SIZES=64 halves it)
# Output: $OUT/runs.csv, $OUT/logs/, the markdown table on stdout and in
# $OUT/table.md (bench/capture-report.py). Needs root, trafgen, tcpdump,
# netsniff-ng, gcc, python3, and `npm run build` done (npm run bench:capture
# does it).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/netlab.sh"

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-0.3}
DRAIN=${DRAIN:-0.25}
REPS=${REPS:-3}
SIZES=${SIZES:-"64 1514"}
MODES=${MODES:-"pinned unpinned"}
FLOWS=${FLOWS:-1024}
GEN_CPU=${GEN_CPU:-0}
CAP_CPU=${CAP_CPU:-1}
NODE=${NODE:-node}
GEN=${GEN:-trafgen}
GEN_OPTS=${GEN_OPTS:-}
TRAFGEN_OPTS=${TRAFGEN_OPTS:-}
PEERBENCH=${PEERBENCH:-}
XSK_RX=${XSK_RX:-8192}
XSK_FILL=${XSK_FILL:-8192}
GATE_BUSY=${GATE_BUSY:-20}
GATE_WAIT=${GATE_WAIT:-120}
RETRY=${RETRY:-2}
OUT=${OUT:-/tmp/netring-bench/$(date +%Y%m%d-%H%M%S)}
CLI_JS=${CLI_JS:-$ROOT/dist/src/cli/main.js}
AB_DIST=${AB_DIST:-}
RX_JS=$ROOT/dist/bench/rx-netring.js

case $GEN in trafgen|netring) ;; *) echo "capture.sh: GEN must be trafgen or netring, not '$GEN'" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "capture.sh: needs root (AF_PACKET, namespaces)" >&2; exit 2; }
for t in trafgen tcpdump netsniff-ng gcc python3 ip ethtool taskset; do
  command -v "$t" >/dev/null || { echo "capture.sh: $t not found (apt-get install netsniff-ng tcpdump gcc python3 iproute2 ethtool)" >&2; exit 2; }
done
[ -f "$RX_JS" ] || { echo "capture.sh: $RX_JS missing: run npm run build first" >&2; exit 2; }
if [ "$GEN" = netring ]; then
  "$NODE" "$CLI_JS" gen --help >/dev/null 2>&1 || { echo "capture.sh: GEN=netring needs $CLI_JS gen: run npm run build first" >&2; exit 2; }
fi
have_cli() { [ -f "$CLI_JS" ] && "$NODE" "$CLI_JS" capture --help >/dev/null 2>&1; }
# RECEIVERS=flows: flow metering exporting IPFIX to a collector on loopback (nfcapd), netring beside softflowd
if [ "${RECEIVERS:-}" = flows ]; then
  RECEIVERS="flows_ipfix softflowd"
fi
# RECEIVERS=cli: the command-line receivers users run, beside tcpdump, netsniff-ng and the C loop
if [ "${RECEIVERS:-}" = cli ]; then
  RECEIVERS="ring_loop cli_q cli cli_pcap cli_file cli_file_pcap cli_w2 cli_w2_pcap cli_w2_file cli_w2_merged tcpdump tcpdump_file netsniff netsniff_file"
fi
if [ -z "${RECEIVERS:-}" ]; then
  RECEIVERS="netring netring_pcapng ring_loop tcpdump netsniff"
  have_cli && RECEIVERS="netring netring_pcapng cli ring_loop tcpdump netsniff"
fi

mkdir -p "$OUT/logs"
# Real files on disk for the *_file receivers (deleted after each run: only the write cost is measured).
DISK=${DISK:-$OUT/disk}
mkdir -p "$DISK"
BIN=$OUT/bin
mkdir -p "$BIN"
CSV=$OUT/runs.csv
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/run.log" >&2; }

# ------------------------------------------------------------- cleanup ---
RPID="" TPID="" CPID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p
  for p in $RPID $TPID $CPID; do
    kill -INT "$p" 2>/dev/null && sleep 0.3
    kill -KILL "$p" 2>/dev/null
  done
  netlab_wmem_restore
  netlab_down
  exit $rc
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --------------------------------------------------------------- build ---
gcc -O2 -Wall -Wextra -o "$BIN/ring_loop" "$HERE/ring_loop.c" || { log "build of ring_loop failed"; exit 1; }
gcc -O1 -Wall -o "$BIN/canary" "$HERE/canary.c" || { log "build of canary failed"; exit 1; }
gcc -O2 -Wall -Wextra -o "$BIN/xsk_loop" "$HERE/xsk_loop.c" || { log "build of xsk_loop failed"; exit 1; }
if [[ " $RECEIVERS " == *" pb_xsk "* ]]; then
  [ -f "$PEERBENCH/pb_xsk.c" ] || { log "pb_xsk: set PEERBENCH to the directory holding pb_xsk.c"; exit 2; }
  gcc -O2 -Wall -o "$BIN/pb_xsk" "$PEERBENCH/pb_xsk.c" -lxdp -lbpf || { log "build of pb_xsk failed (libxdp-dev, libbpf-dev)"; exit 1; }
fi

# --------------------------------------------------------------- setup ---
netlab_up || { log "network setup failed"; exit 1; }
for s in $SIZES; do netlab_flows "$s" "$FLOWS" > "$OUT/flows_$s.cfg" || exit 1; done
netlab_wmem_boost
# the flow receivers export to a collector on the capture namespace's loopback (its CPU is not counted)
COLLECTOR_PORT=${COLLECTOR_PORT:-4739}
if [[ " $RECEIVERS " == *" flows_"* || " $RECEIVERS " == *" softflowd "* ]]; then
  for t in nfcapd nfdump softflowd softflowctl; do
    command -v "$t" >/dev/null || { log "$t not found (apt-get install nfdump softflowd)"; exit 2; }
  done
  mkdir -p "$OUT/collector"
  ip netns exec "$CAP_NS" nfcapd -w "$OUT/collector" -b 127.0.0.1 -p "$COLLECTOR_PORT" > "$OUT/logs/nfcapd.log" 2>&1 &
  CPID=$!
  sleep 0.5
  kill -0 "$CPID" 2>/dev/null || { log "nfcapd did not start: $(tail -2 "$OUT/logs/nfcapd.log" | tr '\n' ' ')"; exit 1; }
fi

{
  echo "date: $(date -Is)"
  echo "kernel: $(uname -r)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
  echo "node: $("$NODE" --version)"
  echo "generator: $GEN"
  echo "trafgen: $(trafgen -v 2>&1 | head -1)"
  echo "tcpdump: $(tcpdump --version 2>&1 | head -2 | tr '\n' ' ')"
  echo "netsniff-ng: $(netsniff-ng -v 2>&1 | head -1)"
  echo "netring: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet -- src 2>/dev/null || echo '+dirty')"
  echo "params: DURATION=$DURATION WARMUP=$WARMUP DRAIN=$DRAIN REPS=$REPS SIZES='$SIZES' MODES='$MODES' RECEIVERS='$RECEIVERS' GEN=$GEN GEN_OPTS='$GEN_OPTS' TRAFGEN_OPTS='$TRAFGEN_OPTS' FLOWS=$FLOWS GEN_CPU=$GEN_CPU CAP_CPU=$CAP_CPU"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/env.txt"
cat "$OUT/env.txt" >&2

echo "rep,size,mode,receiver,status,window_s,gen_mpps,sent,delivered,received,drop_pct,kernel_drops,link_drops,cpu_ns,cpu_stat_ns,ns_per_pkt,cpu_pct,rx_core_busy,gen_core_busy,canary_gen_us,canary_rx_us,gcs,heap_growth,gen,gen_reported,bg_busy,overlap" > "$CSV"

# ------------------------------------------------------------- helpers ---
now() { date +%s.%N; }
# CPU time of a process, all live threads, in ns (schedstat: exact, per thread)
cpu_sched_ns() {
  local t a s=0
  for t in /proc/"$1"/task/*/schedstat; do
    read -r a _ < "$t" 2>/dev/null && s=$((s + a))
  done
  echo "$s"
}
# utime+stime of a process (all threads, also exited ones) in ns, 10 ms ticks
cpu_stat_ns() {
  local f; f=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  set -- $f
  echo $(( (${12} + ${13}) * 1000000000 / $(getconf CLK_TCK) ))
}
# "total idle" jiffies of one cpu
cpustat() { awk -v c="cpu$1" '$1 == c { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat; }

# busy % of all CPUs together over one second
busy_1s() {
  local a b
  a=$(awk '$1 == "cpu" { print $2+$3+$4+$7+$8+$9, $5+$6 }' /proc/stat); sleep 1
  b=$(awk '$1 == "cpu" { print $2+$3+$4+$7+$8+$9, $5+$6 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); d = y[1] - x[1] + y[2] - x[2]; printf "%.0f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }'
}
# true if PID descends from this script
ours() {
  local p=$1
  while [ -n "$p" ] && [ "$p" -gt 1 ]; do
    [ "$p" = $$ ] && return 0
    p=$(awk '$1 == "PPid:" { print $2 }' "/proc/$p/status" 2>/dev/null)
  done
  return 1
}
# another benchmark's generator or receiver runs on this machine
others_running() {
  local p
  for p in $(pgrep -x trafgen; pgrep -f 'dist/bench/(fanout-rx|lang-capture)\.js|main\.js gen '); do
    ours "$p" || return 0
  done
  return 1
}
BG=""
gate() {  # wait for a quiet machine; BG = the busy % seen last
  BG=""
  [ "$GATE_WAIT" -gt 0 ] || return 0
  local t0=$SECONDS
  while :; do
    BG=$(busy_1s)
    if ! others_running && [ "$BG" -lt "$GATE_BUSY" ]; then return 0; fi
    if ((SECONDS - t0 >= GATE_WAIT)); then log "gate: still busy (${BG}%$(others_running && echo ', another benchmark runs')): running anyway"; return 0; fi
    sleep 1
  done
}

# receiver command for a name, with {IF} substituted; pinned adds CPU binding where the tool re-binds itself
rcv_cmd() {
  local pinned=$2
  case $1 in
    netring)          echo "$NODE $RX_JS $CAP_IF count" ;;
    netring_touch)    echo "$NODE $RX_JS $CAP_IF touch" ;;
    netring_pcapng)   echo "$NODE $RX_JS $CAP_IF pcapng --out /dev/null" ;;
    netring_iter)     echo "$NODE $RX_JS $CAP_IF count --form iter" ;;
    netring_xdp)      echo "$NODE $RX_JS $CAP_IF count --backend xdp --rx-ring $XSK_RX --fill-ring $XSK_FILL" ;;
    netring_xdp_ab)   echo "$NODE $AB_DIST/bench/rx-netring.js $CAP_IF count --backend xdp --rx-ring $XSK_RX --fill-ring $XSK_FILL" ;;
    xsk_loop)         echo "$BIN/xsk_loop $CAP_IF -r $XSK_RX -f $XSK_FILL" ;;
    pb_xsk)           echo "$BIN/pb_xsk $CAP_IF -b 256 -r $XSK_RX -f $XSK_FILL" ;;
    cli)              echo "$NODE $CLI_JS capture -i $CAP_IF -w /dev/null --format pcapng --json" ;;
    cli_q)            echo "$NODE $CLI_JS capture -i $CAP_IF -q --json" ;;
    cli_pcap)         echo "$NODE $CLI_JS capture -i $CAP_IF -w /dev/null --format pcap --json" ;;
    cli_file)         echo "$NODE $CLI_JS capture -i $CAP_IF -w $DISK/cli.pcapng --json" ;;
    cli_file_pcap)    echo "$NODE $CLI_JS capture -i $CAP_IF -w $DISK/cli.pcap --json" ;;
    cli_w2)           echo "$NODE $CLI_JS capture -i $CAP_IF --workers 2 -w /dev/null --json" ;;
    cli_w2_pcap)      echo "$NODE $CLI_JS capture -i $CAP_IF --workers 2 -w /dev/null --format pcap --json" ;;
    cli_w2_file)      echo "$NODE $CLI_JS capture -i $CAP_IF --workers 2 -w $DISK/w2.%w.pcapng --json" ;;
    cli_w2_merged)    echo "$NODE $CLI_JS capture -i $CAP_IF --workers 2 -w $DISK/w2m.pcapng --json" ;;
    tcpdump_file)     echo "tcpdump -i $CAP_IF -w $DISK/tcpdump.pcap -B 65536 -n" ;;
    netsniff_file)    if [ "$pinned" = 1 ]; then echo "netsniff-ng -i $CAP_IF -o $DISK/netsniff.pcap -s -S 64MiB -Q -A -b $CAP_CPU"
                      else echo "netsniff-ng -i $CAP_IF -o $DISK/netsniff.pcap -s -S 64MiB -Q -A"; fi ;;
    cli_ab)           echo "$NODE $AB_DIST/src/cli/main.js capture -i $CAP_IF -w /dev/null --format pcapng --json" ;;
    cli_pcap_ab)      echo "$NODE $AB_DIST/src/cli/main.js capture -i $CAP_IF -w /dev/null --format pcap --json" ;;
    cli_q_ab)         echo "$NODE $AB_DIST/src/cli/main.js capture -i $CAP_IF -q --json" ;;
    flows_ipfix)      echo "$NODE $CLI_JS flows -i $CAP_IF -q --ipfix 127.0.0.1:$COLLECTOR_PORT --json" ;;
    flows_ipfix_w2)   echo "$NODE $CLI_JS flows -i $CAP_IF --workers 2 -q --ipfix 127.0.0.1:$COLLECTOR_PORT --json" ;;
    flows_ipfix_ab)   echo "$NODE $AB_DIST/src/cli/main.js flows -i $CAP_IF -q --ipfix 127.0.0.1:$COLLECTOR_PORT --json" ;;
    softflowd)        echo "softflowd -i $CAP_IF -d -v 10 -n 127.0.0.1:$COLLECTOR_PORT -m 262144 -B 67108864 -c $OUT/softflowd.ctl -p $OUT/softflowd.pid" ;;
    ring_loop)        echo "$BIN/ring_loop $CAP_IF" ;;
    ring_loop_touch)  echo "$BIN/ring_loop $CAP_IF -T" ;;
    tcpdump)          echo "tcpdump -i $CAP_IF -w /dev/null -B 65536 -n" ;;
    netsniff)         if [ "$pinned" = 1 ]; then echo "netsniff-ng -i $CAP_IF -o /dev/null -s -S 64MiB -Q -A -b $CAP_CPU"
                      else echo "netsniff-ng -i $CAP_IF -o /dev/null -s -S 64MiB -Q -A"; fi ;;
    *)                return 1 ;;
  esac
}
# generator command for a frame size: both send FLOWS IPv4/UDP flows (src
# 10.99.0.1.., sport 10000-10063, dst 10.99.1.1:5001, payload 0x5a) to DST_MAC
gen_cmd() {
  case $GEN in
    trafgen) echo "trafgen -o $GEN_IF -i $OUT/flows_$1.cfg -P 1 -Q -C $TRAFGEN_OPTS" ;;
    netring) echo "$NODE $CLI_JS gen -i $GEN_IF --src-mac $GEN_MAC --dst-mac $DST_MAC --src 10.99.0.1-10.99.0.$((FLOWS / 64)) --sport 10000-10063 --dst 10.99.1.1 --dport 5001 --flows $FLOWS --size $1 --payload 0x5a --quiet $GEN_OPTS" ;;
  esac
}
# the generator's own count of frames sent, from its final summary (commas removed)
gen_parse() {
  case $GEN in
    trafgen) grep -o '[0-9,]* *packets outgoing' "$1" | head -1 | tr -dc '0-9' ;;
    netring) grep -o '^[0-9,]* packets sent on' "$1" | head -1 | tr -dc '0-9' ;;
  esac
}
rcv_ready_re() {
  case $1 in
    tcpdump|tcpdump_file) echo "listening on" ;;
    netsniff|netsniff_file) echo "Running" ;;
    cli_w2*) echo "capturing on" ;;   # once every worker joined the group
    flows_*) echo "metering flows on" ;;
    softflowd) echo "" ;;
    cli*) echo "listening on" ;;   # like tcpdump, once its ring is bound
    # a receiver that prints nothing at start: echo "" waits for its bound packet socket
    *) echo "READY" ;;
  esac
}
# true once PID owns an AF_PACKET socket bound to a protocol (ring set up, bound)
bound_packet_socket() {
  local ino
  ino=$(ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p')
  [ -n "$ino" ] || return 1
  awk -v want=" $(echo $ino) " 'NR > 1 && $4 != "0" && index(want, " " $9 " ") { found = 1 } END { exit !found }' "/proc/$1/net/packet"
}
is_ready() {  # is_ready RE PID OUT ERR
  if [ -z "$1" ]; then bound_packet_socket "$2"; else grep -q -- "$1" "$3" "$4" 2>/dev/null; fi
}
rcv_drain() {  # libpcap retires a partly filled block after its 1 s timeout
  case $1 in tcpdump*|softflowd) echo 1.1 ;; *) echo "$DRAIN" ;; esac
}
# "received kernel_drops gcs heap_growth" from a receiver's logs
rcv_parse() {
  local out=$2 err=$3 got="" kd="" gcs="" hg=""
  case $1 in
    tcpdump|tcpdump_file)
      got=$(grep -ho '^[0-9]* packets captured' "$out" "$err" | cut -d' ' -f1)
      kd=$(grep -ho '^[0-9]* packets dropped by kernel' "$out" "$err" | cut -d' ' -f1) ;;
    netsniff|netsniff_file)
      got=$(grep -ho '[0-9]*  *packets incoming' "$out" "$err" | awk '{print $1}' | head -1)
      kd=$(grep -ho '[0-9]*  *packets dropped' "$out" "$err" | awk '{print $1}' | head -1) ;;
    softflowd)  # softflowctl statistics, asked just before the stop (rcv_before_stop)
      got=$(grep -ho '^Packets processed: [0-9]*' "$out" | tail -1 | tr -dc '0-9')
      kd=$(grep -ho '^Packets dropped by libpcap: [0-9]*' "$out" | tail -1 | tr -dc '0-9') ;;
    flows_*)  # the JSON summary: every packet taken from the ring is metered or counted as not IP
      got=$(python3 -c 'import json,sys
for l in reversed(open(sys.argv[1]).read().splitlines()):
  try: d=json.loads(l)
  except Exception: continue
  if d.get("summary"): print(d["packets"] + d["ignored"], d["dropped"]); break' "$out" 2>/dev/null)
      read -r got kd <<<"$got" ;;
    cli*)
      got=$(python3 -c 'import json,sys
t=open(sys.argv[1]).read(); i=t.rfind("{")
while i>=0:
  try: d=json.loads(t[i:]); break
  except Exception: i=t.rfind("{",0,i)
else: sys.exit(0)
print(d.get("received",""), d.get("dropped",""))' "$out" 2>/dev/null)
      read -r got kd <<<"$got" ;;
    *)
      got=$(grep -ho 'RESULT packets=[0-9]*' "$out" | head -1 | cut -d= -f2)
      kd=$(grep -ho 'kernel_drops=[0-9]*' "$out" | head -1 | cut -d= -f2)
      gcs=$(grep -ho ' gcs=[0-9]*' "$out" | head -1 | cut -d= -f2)
      hg=$(grep -ho 'heap_growth=-\?[0-9]*' "$out" | head -1 | cut -d= -f2) ;;
  esac
  echo "${got:-NA} ${kd:-NA} ${gcs:-NA} ${hg:-NA}"
}

# what a receiver needs just before it is stopped (after its CPU time was read)
rcv_before_stop() {  # rcv_before_stop NAME OUT
  case $1 in
    # its counters, then an orderly exit (softflowd answers SIGINT only once its capture loop wakes up)
    softflowd) ip netns exec "$CAP_NS" softflowctl -c "$OUT/softflowd.ctl" statistics >> "$2" 2>&1
               ip netns exec "$CAP_NS" softflowctl -c "$OUT/softflowd.ctl" shutdown >> "$2" 2>&1 ;;
  esac
}

# ------------------------------------------------------------- one run ---
run_one() {
  local rep=$1 size=$2 mode=$3 rcv=$4
  local tag="r${rep}_${size}_${mode}_${rcv}" status=ok pinned=0
  local rout="$OUT/logs/$tag.out" rerr="$OUT/logs/$tag.err" tlog="$OUT/logs/$tag.$GEN"
  local cap_pin="" gen_pin=""
  case $mode in
    pinned) pinned=1; cap_pin="taskset -c $CAP_CPU"; gen_pin="taskset -c $GEN_CPU" ;;
    unpinned) ;;
    *) log "unknown mode $mode"; return ;;
  esac
  gate
  local cg cr
  cg=$(taskset -c "$GEN_CPU" "$BIN/canary" 10000000); cr=$(taskset -c "$CAP_CPU" "$BIN/canary" 10000000)

  RPID=""
  if [ "$rcv" != none ]; then
    local cmd re i
    cmd=$(rcv_cmd "$rcv" "$pinned") || { log "unknown receiver $rcv"; return; }
    # ip netns exec and taskset exec() into the receiver: $! is the receiver itself
    # shellcheck disable=SC2086
    ip netns exec "$CAP_NS" $cap_pin $cmd > "$rout" 2> "$rerr" &
    RPID=$!
    re=$(rcv_ready_re "$rcv")
    for ((i = 0; i < 400; i++)); do
      is_ready "$re" "$RPID" "$rout" "$rerr" && break
      kill -0 "$RPID" 2>/dev/null || break
      sleep 0.025
    done
    if ! kill -0 "$RPID" 2>/dev/null || ! is_ready "$re" "$RPID" "$rout" "$rerr"; then
      log "$tag: receiver failed to start: $(head -c 300 "$rerr" | tr '\n' ' ')"
      kill -KILL "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; RPID=""
      echo "$rep,$size,$mode,$rcv,FAIL_START,,,,,,,,,,,,,,,$cg,$cr,,,$GEN,,$BG," >> "$CSV"
      return
    fi
    sleep 0.2
  fi

  local c0 g0 gA gB c2 g2 ta tb t0 t2 r0=0 r2=0 s0=0 s2=0 x0 x2 y0 y2
  c0=$(netlab_counters "$CAP_NS" "$CAP_IF"); g0=$(netlab_counters "$GEN_NS" "$GEN_IF")
  if [ -n "$RPID" ]; then r0=$(cpu_sched_ns "$RPID"); s0=$(cpu_stat_ns "$RPID"); fi
  x0=$(cpustat "$CAP_CPU"); y0=$(cpustat "$GEN_CPU"); t0=$(now)
  # trafgen -P 1 forks a worker, node has helper threads: timeout (own process
  # group) forwards our SIGINT to all; its own limit is only a safety net.
  local gcmd gtx0 gx i
  gcmd=$(gen_cmd "$size")
  # shellcheck disable=SC2086
  # (trafgen compiles its whole config first: with FLOWS=100000 that takes tens of seconds)
  timeout -s INT -k 5 "$(awk -v w="$WARMUP" -v d="$DURATION" 'BEGIN { print int(w + d + 150) }')" \
    ip netns exec "$GEN_NS" $gen_pin $gcmd > "$tlog" 2>&1 &
  TPID=$!
  # the run starts with the first frame (node needs a few hundred ms to start)
  read -r _ _ gtx0 _ <<<"$g0"
  for ((i = 0; i < 12000; i++)); do
    read -r _ _ gx _ <<<"$(netlab_counters "$GEN_NS" "$GEN_IF")"
    [ "$gx" != "$gtx0" ] && break
    kill -0 "$TPID" 2>/dev/null || break
    sleep 0.01
  done
  sleep "$WARMUP"
  gA=$(netlab_counters "$GEN_NS" "$GEN_IF"); ta=$(now)
  local overlap=0 half   # 1: another benchmark ran at the start, middle or end of the window
  others_running && overlap=1
  half=$(awk -v w="$WARMUP" -v d="$DURATION" 'BEGIN { x = d - w; print (x > 0.2 ? x : 0.2) / 2 }')
  sleep "$half"; others_running && overlap=1; sleep "$half"
  gB=$(netlab_counters "$GEN_NS" "$GEN_IF"); tb=$(now)
  others_running && overlap=1
  kill -INT "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; TPID=""
  local gsent; gsent=$(gen_parse "$tlog")
  [ -n "$gsent" ] || { status=GEN_FAIL; log "$tag: $GEN: $(grep -iv warn "$tlog" | tail -2 | tr '\n' ' ')"; }

  local got=NA kd=NA gcs=NA hg=NA
  if [ -n "$RPID" ]; then
    sleep "$(rcv_drain "$rcv")"
    r2=$(cpu_sched_ns "$RPID"); s2=$(cpu_stat_ns "$RPID")
  fi
  t2=$(now); x2=$(cpustat "$CAP_CPU"); y2=$(cpustat "$GEN_CPU")
  c2=$(netlab_counters "$CAP_NS" "$CAP_IF"); g2=$(netlab_counters "$GEN_NS" "$GEN_IF")
  if [ -n "$RPID" ]; then
    rcv_before_stop "$rcv" "$rout"
    kill -INT "$RPID" 2>/dev/null
    local i
    for ((i = 0; i < 200; i++)); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.025; done
    if kill -0 "$RPID" 2>/dev/null; then kill -KILL "$RPID" 2>/dev/null; status=KILLED; fi
    wait "$RPID" 2>/dev/null; RPID=""
    rm -rf "$DISK"/* "$DISK"/.[!.]*   # the *_file receivers' captures (and any merge parts): measured, not kept
    read -r got kd gcs hg <<<"$(rcv_parse "$rcv" "$rout" "$rerr")"
    [ "$got" = NA ] && [ "$status" = ok ] && status=NO_RESULT
  fi
  [ "$overlap" = 1 ] && [ "$status" = ok ] && status=OVERLAP

  python3 - "$rep" "$size" "$mode" "$rcv" "$status" "$c0" "$c2" "$g0" "$gA" "$gB" "$g2" "$ta" "$tb" "$t0" "$t2" \
      "$got" "$kd" "$r0" "$r2" "$s0" "$s2" "$x0" "$x2" "$y0" "$y2" "$cg" "$cr" "$gcs" "$hg" "$GEN" "$gsent" "$BG" "$overlap" >> "$CSV" <<'PY'
import sys
(rep, size, mode, rcv, status, c0, c2, g0, gA, gB, g2, ta, tb, t0, t2, got, kd, r0, r2, s0, s2,
 x0, x2, y0, y2, cg, cr, gcs, hg, gen, gen_sent, bg, overlap) = sys.argv[1:]
v = lambda s: list(map(int, s.split()))
c0, c2, g0, gA, gB, g2, x0, x2, y0, y2 = map(v, (c0, c2, g0, gA, gB, g2, x0, x2, y0, y2))
win = float(tb) - float(ta)
gen_mpps = ((gB[2] + gB[3]) - (gA[2] + gA[3])) / win / 1e6 if win > 0 else 0
sent = (g2[2] + g2[3]) - (g0[2] + g0[3])       # frames the generator handed to its veth end
delivered = c2[0] - c0[0]                      # rx_packets of the capture end
link_drops = (g2[3] - g0[3]) + (c2[1] - c0[1])
busy = lambda a, b: 100.0 * (1 - (b[1] - a[1]) / max(1, b[0] - a[0]))
row = [rep, size, mode, rcv, status, f"{win:.3f}", f"{gen_mpps:.4f}", sent, delivered]
if got != "NA":
    got = int(got)
    cpu = int(r2) - int(r0)
    row += [got, f"{100 * (1 - got / delivered):.3f}" if delivered else "", "" if kd == "NA" else kd, link_drops,
            cpu, int(s2) - int(s0), f"{cpu / got:.2f}" if got else "",
            f"{100 * cpu / 1e9 / (float(t2) - float(t0)):.1f}"]
else:
    row += ["", "", "", link_drops, "", "", "", ""]
row += [f"{busy(x0, x2):.0f}", f"{busy(y0, y2):.0f}", cg, cr, "" if gcs == "NA" else gcs, "" if hg == "NA" else hg, gen, gen_sent, bg, overlap]
print(",".join(map(str, row)))
PY
  log "$(tail -1 "$CSV")"
  sleep 0.1
}

# ---------------------------------------------------------------- main ---
total=$((REPS * $(wc -w <<<"$SIZES") * $(wc -w <<<"$MODES") * $(wc -w <<<"$RECEIVERS")))
log "output in $OUT; $total runs; veth $GEN_IF -> $CAP_IF"
for ((rep = 1; rep <= REPS; rep++)); do
  for size in $SIZES; do
    for mode in $MODES; do
      for rcv in $RECEIVERS; do
        for ((try = 0; try <= RETRY; try++)); do
          run_one "$rep" "$size" "$mode" "$rcv"
          tail -1 "$CSV" | cut -d, -f5 | grep -qx OVERLAP || break
        done
      done
    done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/env.txt"
if [ -n "$CPID" ]; then  # the collector writes its file on exit: say what it received
  kill -TERM "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; CPID=""
  echo "collector (nfcapd on 127.0.0.1:$COLLECTOR_PORT, all runs): $(nfdump -R "$OUT/collector" -q -o 'fmt:%pkt' 2>/dev/null | awk '{ n++; p += $1 } END { printf "%d flow records, %d packets", n, p }')" | tee -a "$OUT/env.txt" >&2
fi
python3 "$HERE/capture-report.py" "$CSV" "$OUT/env.txt" | tee "$OUT/table.md"
log "done: $CSV"
