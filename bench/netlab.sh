# netlab.sh: the benchmarks' network, sourced by bench/capture.sh, gen.sh and fanout.sh.
#
#   [$GEN_NS] trafgen -> $GEN_IF <==veth==> $CAP_IF -> receiver [$CAP_NS]
#
# Names carry a per-run suffix (NB_ID) so parallel runs and leftovers never
# collide. No addresses, IPv6 off, offloads off: only trafgen's frames cross
# the link, one by one. Frames go to a MAC that is not $CAP_IF's, like
# mirrored traffic: the stack drops them right after the packet taps, so the
# receiver under test is the only consumer.
NB_ID=${NB_ID:-$(printf '%04x%02x' $((RANDOM)) $(($$ % 256)))}
GEN_NS=nrb-gen-$NB_ID
CAP_NS=nrb-cap-$NB_ID
GEN_IF=nrbg$NB_ID
CAP_IF=nrbc$NB_ID
GEN_MAC=02:00:00:00:0b:01
CAP_MAC=02:00:00:00:0b:02
DST_MAC=02:00:00:00:ff:02

netlab_up() {
  ip netns add "$GEN_NS" || return 1
  ip netns add "$CAP_NS" || return 1
  ip link add "$GEN_IF" netns "$GEN_NS" type veth peer name "$CAP_IF" netns "$CAP_NS" || return 1
  local ns ifc mac feat
  for end in "$GEN_NS $GEN_IF $GEN_MAC" "$CAP_NS $CAP_IF $CAP_MAC"; do
    read -r ns ifc mac <<<"$end"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1" 2>/dev/null
    ip -n "$ns" link set "$ifc" address "$mac" mtu 1500
    for feat in rx tx sg tso gso gro lro rx-gro-list rx-udp-gro-forwarding tx-udp-segmentation; do
      ip netns exec "$ns" ethtool -K "$ifc" "$feat" off >/dev/null 2>&1
    done
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$ifc" up || return 1
  done
  local i
  for ((i = 0; i < 50; i++)); do
    ip -n "$CAP_NS" link show "$CAP_IF" 2>/dev/null | grep -q 'state UP' && break
    sleep 0.1
  done
}

# trafgen raises net.core.wmem_default itself, but inside a namespace the sysctl
# is read-only: raise it in the root namespace for the run. netlab_wmem_restore
# (call it from the EXIT trap) puts the old value back.
NETLAB_WMEM_BOOST=4194304
NETLAB_OLD_WMEM=""
netlab_wmem_boost() {
  local cur
  cur=$(sysctl -n net.core.wmem_default)
  if [ "$cur" -lt "$NETLAB_WMEM_BOOST" ]; then
    NETLAB_OLD_WMEM=$cur
    sysctl -qw net.core.wmem_default=$NETLAB_WMEM_BOOST
  fi
}
netlab_wmem_restore() {
  [ -n "$NETLAB_OLD_WMEM" ] && sysctl -qw net.core.wmem_default="$NETLAB_OLD_WMEM"
  NETLAB_OLD_WMEM=""
}

# Remove both namespaces (the veth pair goes with them). Idempotent.
netlab_down() {
  ip netns del "$GEN_NS" 2>/dev/null
  ip netns del "$CAP_NS" 2>/dev/null
  return 0
}

# "rx_packets rx_dropped tx_packets tx_dropped" of one veth end: netlab_counters NS IF
netlab_counters() {
  ip netns exec "$1" awk -v d="$2:" '$1 == d { print $3, $5, $11, $13 }' /proc/net/dev
}

# trafgen config: netlab_flows FRAME_LEN NFLOWS. NFLOWS IPv4/UDP frames that
# differ in their 5-tuple (src 10.99.x.y, sport 10000-10063, dst
# 10.99.1.1:5001), sent round-robin; FRAME_LEN is the L2 length without FCS.
netlab_flows() {
  local len=$1 nflows=$2 i
  local pay=$((len - 14 - 20 - 8))
  [ "$pay" -ge 0 ] || { echo "frame length $len too short for IPv4/UDP" >&2; return 1; }
  for ((i = 0; i < nflows; i++)); do
    printf '{ eth(da=%s, sa=%s), ipv4(sa=10.99.%d.%d, da=10.99.1.1, ttl=64, df), udp(sp=%d, dp=5001), fill(0x5a, %d) }\n' \
      "$DST_MAC" "$GEN_MAC" $((i / 64 / 250)) $((1 + (i / 64) % 250)) $((10000 + i % 64)) "$pay"
  done
}
