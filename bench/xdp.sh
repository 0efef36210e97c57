#!/usr/bin/env bash
# bench/xdp.sh: generated XDP programs (netring xdp / forward / bridge) against
# hand-written C XDP programs doing the same, and netring bridge against the
# Linux bridge.
#
#   [nxg-ID] trafgen -> g0 <==veth==> x1 [root: program under test]   x2 <==veth==> s2 [nxs-ID]
#
# trafgen sends 64-byte UDP frames of NFLOWS flows from the generator
# namespace; the program under test runs at x1's XDP hook (native mode);
# forwarded frames leave through x2 and arrive on s2 (which runs an XDP pass
# program: a veth takes XDP-redirected frames only when its peer runs XDP).
#
# Configurations (CONFIGS):
#   drop-c          C: return XDP_DROP (clang -O2, attached with ip link)
#   drop-netring    netring xdp --program drop
#   count-netring   netring xdp --program 'count_by flow >-> drop' (per-flow counters in a per-CPU hash map)
#   fwd-c           C: bpf_redirect_map through a devmap holding x2
#   fwd-netring     netring forward -i x1 -o x2
#   bridge-linux    Linux bridge with x1 and x2 as ports
#   bridge-netring  netring bridge x1 x2
# Rate: frames the program saw per second (x1's rx_queue_0_xdp_packets, ethtool -S) for the
# drop configurations, frames arriving on s2 per second for forward and bridge; softirq CPU
# per frame: /proc/stat softirq time over the window divided by those frames.
#
# Knobs: DURATION=5 WARMUP=1 REPS=1 NFLOWS=1024 SIZE=64 OUT=/tmp/netring-xdp-bench/<ts>
# The machine is shared and has 2 vCPUs: generator, softirq and the others' work compete;
# compare configurations of the same run (ratios), and repeat (REPS=3 or more) in a quiet
# window; even repetitions run the configurations in reverse order.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
REPS=${REPS:-1}
NFLOWS=${NFLOWS:-1024}
SIZE=${SIZE:-64}
CONFIGS=${CONFIGS:-"drop-c drop-netring count-netring fwd-c fwd-netring bridge-linux bridge-netring"}
OUT=${OUT:-/tmp/netring-xdp-bench/$(date +%Y%m%d-%H%M%S)}
NETRING="$ROOT/dist/src/cli/main.js"
ID=$(printf '%04x' $((RANDOM % 65536)))
GNS=nxg$ID SNS=nxs$ID
G0=nxg0$ID X1=nxx1$ID X2=nxx2$ID S2=nxs2$ID
GEN_MAC=02:00:00:00:0a:01 DST_MAC=02:00:00:00:0b:02
mkdir -p "$OUT"
CSV=$OUT/runs.csv
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

[ -f "$NETRING" ] || { echo "build first: npm run build" >&2; exit 1; }
for t in trafgen clang ethtool; do command -v $t >/dev/null || { echo "$t is needed" >&2; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }

PIDS=() SINKPID=""
cleanup() {
  for p in "${PIDS[@]}" $SINKPID; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  ip link set dev "$X1" xdp off 2>/dev/null
  ip link del nxbr$ID 2>/dev/null
  ip link del "$X1" 2>/dev/null
  ip link del "$X2" 2>/dev/null
  ip netns del "$GNS" 2>/dev/null
  ip netns del "$SNS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

quiet_if() { # NS IF
  local ns=$1 ifc=$2 run=()
  [ -n "$ns" ] && run=(ip netns exec "$ns")
  "${run[@]}" sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1" 2>/dev/null
  for feat in rx tx sg tso gso gro lro; do "${run[@]}" ethtool -K "$ifc" "$feat" off >/dev/null 2>&1; done
}

setup() {
  ip netns add "$GNS" && ip netns add "$SNS" || return 1
  for ns in "$GNS" "$SNS"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
  ip link add "$G0" netns "$GNS" address "$GEN_MAC" type veth peer name "$X1" || return 1
  ip link add "$S2" netns "$SNS" type veth peer name "$X2" || return 1
  quiet_if "$GNS" "$G0"; quiet_if "" "$X1"; quiet_if "" "$X2"; quiet_if "$SNS" "$S2"
  ip -n "$GNS" link set "$G0" up; ip link set "$X1" up; ip link set "$X2" up; ip -n "$SNS" link set "$S2" up
}

# C programs, built for the bench only
build_c() {
  local inc=()
  [ -d /usr/include/x86_64-linux-gnu ] && inc=(-I/usr/include/x86_64-linux-gnu)
  cat >"$OUT/drop.c" <<'EOF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int xdp_drop(struct xdp_md *ctx) { return XDP_DROP; }
char _license[] SEC("license") = "GPL";
EOF
  cat >"$OUT/fwd.c" <<'EOF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_DEVMAP); __uint(max_entries, 1); __type(key, __u32); __type(value, __u32); } nxb_tx SEC(".maps");
SEC("xdp") int xdp_fwd(struct xdp_md *ctx) { return bpf_redirect_map(&nxb_tx, 0, 0); }
char _license[] SEC("license") = "GPL";
EOF
  clang -O2 -g -target bpf "${inc[@]}" -c "$OUT/drop.c" -o "$OUT/drop.o" && clang -O2 -g -target bpf "${inc[@]}" -c "$OUT/fwd.c" -o "$OUT/fwd.o"
}

flows() {
  local pay=$((SIZE - 14 - 20 - 8)) i
  for ((i = 0; i < NFLOWS; i++)); do
    printf '{ eth(da=%s, sa=%s), ipv4(sa=10.99.%d.%d, da=10.99.1.1, ttl=64, df), udp(sp=%d, dp=5001), fill(0x5a, %d) }\n' \
      "$DST_MAC" "$GEN_MAC" $((i / 64 / 250)) $((1 + (i / 64) % 250)) $((10000 + i % 64)) "$pay"
  done >"$OUT/flows.cfg"
}

xdp_packets() { ethtool -S "$X1" | awk '/rx_queue_0_xdp_packets/ { print $2 }'; }
sink_rx() { ip netns exec "$SNS" awk -v d="$S2:" '$1 == d { print $3 }' /proc/net/dev; }
softirq() { awk '/^cpu / { print $8 }' /proc/stat; }
wait_attached() { # LOGFILE N
  local i
  for ((i = 0; i < 200; i++)); do [ "$(grep -c 'attached to' "$1" 2>/dev/null)" -ge "$2" ] && return 0; sleep 0.1; done
  echo "program did not attach: $(cat "$1")" >&2; return 1
}

start_config() { # NAME -> sets MEASURE (xdp|sink)
  local c=$1 log=$OUT/$1.log
  MEASURE=xdp
  case $c in
    drop-c) ip link set dev "$X1" xdpdrv obj "$OUT/drop.o" sec xdp || return 1 ;;
    drop-netring) node "$NETRING" xdp -i "$X1" --mode native --program drop 2>"$log" & PIDS+=($!); wait_attached "$log" 1 ;;
    count-netring) node "$NETRING" xdp -i "$X1" --mode native --program 'count_by flow >-> drop' 2>"$log" & PIDS+=($!); wait_attached "$log" 1 ;;
    fwd-c)
      MEASURE=sink
      ip link set dev "$X1" xdpdrv obj "$OUT/fwd.o" sec xdp || return 1
      local idx; idx=$(cat /sys/class/net/"$X2"/ifindex)
      bpftool map update name nxb_tx key 0 0 0 0 value $((idx & 255)) $(((idx >> 8) & 255)) $(((idx >> 16) & 255)) $((idx >> 24)) || return 1 ;;
    fwd-netring) MEASURE=sink; node "$NETRING" forward -i "$X1" -o "$X2" --mode native 2>"$log" & PIDS+=($!); wait_attached "$log" 1 ;;
    bridge-linux)
      MEASURE=sink
      ip link add nxbr$ID type bridge && ip link set "$X1" master nxbr$ID && ip link set "$X2" master nxbr$ID && ip link set nxbr$ID up ;;
    bridge-netring) MEASURE=sink; node "$NETRING" bridge "$X1" "$X2" --mode native 2>"$log" & PIDS+=($!); wait_attached "$log" 2 ;;
    *) echo "unknown configuration $c" >&2; return 1 ;;
  esac
}

stop_config() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  PIDS=()
  ip link set dev "$X1" xdp off 2>/dev/null
  ip link del nxbr$ID 2>/dev/null
  return 0
}

setup || { echo "network set-up failed" >&2; exit 1; }
build_c || { echo "building the C programs failed" >&2; exit 1; }
flows
# the sink runs XDP so that redirected frames are taken (veth)
ip netns exec "$SNS" node "$NETRING" xdp -i "$S2" --program pass 2>"$OUT/sink.log" & SINKPID=$!
wait_attached "$OUT/sink.log" 1 || exit 1
echo "config,rep,pps,softirq_ns_per_pkt,load1" >"$CSV"
log "out: $OUT (load: $(cut -d' ' -f1-3 /proc/loadavg))"
for rep in $(seq 1 "$REPS"); do
  # every other repetition runs the configurations in reverse order, so that no configuration
  # always follows the same one (a generated program always measured right after its C twin)
  order=$CONFIGS
  [ $((rep % 2)) = 0 ] && order=$(echo $CONFIGS | tr ' ' '\n' | tac | tr '\n' ' ')
  for c in $order; do
    start_config "$c" || { log "$c: could not start"; stop_config; continue; }
    # own session: trafgen signals its process group when it stops
    setsid ip netns exec "$GNS" trafgen -o "$G0" -i "$OUT/flows.cfg" -P 1 -Q -C >/dev/null 2>&1 & TG=$!
    sleep "$WARMUP"
    if [ "$MEASURE" = xdp ]; then p0=$(xdp_packets); else p0=$(sink_rx); fi
    s0=$(softirq); t0=$(date +%s.%N)
    sleep "$DURATION"
    if [ "$MEASURE" = xdp ]; then p1=$(xdp_packets); else p1=$(sink_rx); fi
    s1=$(softirq); t1=$(date +%s.%N)
    kill -TERM -- "-$TG" 2>/dev/null; wait "$TG" 2>/dev/null
    stop_config
    hz=$(getconf CLK_TCK)
    read -r pps nspp < <(awk -v p=$((p1 - p0)) -v s=$((s1 - s0)) -v t0="$t0" -v t1="$t1" -v hz="$hz" \
      'BEGIN { pk = p > 0 ? p : 1; printf "%.0f %.1f\n", p / (t1 - t0), s * 1e9 / hz / pk }')
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "$c,$rep,$pps,$nspp,$load" >>"$CSV"
    log "$c rep $rep: $(awk -v p="$pps" 'BEGIN { printf "%.3f", p / 1e6 }') Mpps, softirq $nspp ns/packet (load $load)"
  done
done

# summary: mean per configuration, ratios netring / C and netring / Linux bridge
awk -F, 'NR > 1 { n[$1]++; p[$1] += $3; s[$1] += $4 } END {
  for (c in n) m[c] = p[c] / n[c]
  printf "| configuration | Mpps | softirq ns/packet |\n|---|---|---|\n"
  split("drop-c drop-netring count-netring fwd-c fwd-netring bridge-linux bridge-netring", order, " ")
  for (i = 1; i <= 7; i++) { c = order[i]; if (c in n) printf "| %s | %.3f | %.1f |\n", c, m[c] / 1e6, s[c] / n[c] }
  if (m["drop-c"] > 0 && ("drop-netring" in m)) printf "\ndrop: netring / C = %.3f\n", m["drop-netring"] / m["drop-c"]
  if (m["drop-netring"] > 0 && ("count-netring" in m)) printf "per-flow counters: cost per packet vs drop = %.3f\n", m["drop-netring"] / m["count-netring"]
  if (m["fwd-c"] > 0 && ("fwd-netring" in m)) printf "forward: netring / C = %.3f\n", m["fwd-netring"] / m["fwd-c"]
  if (m["bridge-linux"] > 0 && ("bridge-netring" in m)) printf "bridge: netring / Linux bridge = %.3f\n", m["bridge-netring"] / m["bridge-linux"]
}' "$CSV" | tee "$OUT/summary.md"
