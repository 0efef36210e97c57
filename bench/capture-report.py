#!/usr/bin/env python3
"""Summarise bench/capture.sh runs into markdown (medians over repetitions).

usage: capture-report.py runs.csv [env.txt]

Per frame size and CPU mode: generator Mpps, received Mpps, drop %, receiver
CPU ns per packet and CPU %, then the ratios the issue asks for: netring's
ns/pkt over the C loop's and over tcpdump's (median of the per-repetition
ratios: runs of one repetition are adjacent in time, so slow drift of the VM
cancels out), with the goals (counting only: 0 drops, <= 1.5x C, <= 0.5x
tcpdump; pcapng: 0 drops).
"""
import csv
import statistics
import sys
from collections import OrderedDict

LABEL = OrderedDict([
    ("none", "generator alone"),
    ("netring", "netring, count only (bench/rx-netring.ts)"),
    ("netring_iter", "netring, count only, async iterator"),
    ("netring_touch", "netring, reads 5-tuple"),
    ("netring_pcapng", "netring, pcapng to /dev/null"),
    ("cli", "`netring capture -w /dev/null`"),
    ("cli_q", "`netring capture -q`"),
    ("cli_pcap", "`netring capture -w /dev/null --format pcap`"),
    ("cli_ab", "`netring capture -w /dev/null`, AB_DIST build"),
    ("cli_pcap_ab", "`netring capture -w /dev/null --format pcap`, AB_DIST build"),
    ("cli_q_ab", "`netring capture -q`, AB_DIST build"),
    ("cli_file", "`netring capture -w FILE.pcapng` (disk)"),
    ("cli_file_pcap", "`netring capture -w FILE.pcap` (disk)"),
    ("cli_w2", "`netring capture --workers 2 -w /dev/null` (merged, parts in the temp dir)"),
    ("cli_w2_pcap", "`netring capture --workers 2 -w /dev/null --format pcap` (merged, parts in the temp dir)"),
    ("cli_w2_file", "`netring capture --workers 2 -w FILE.%w.pcapng` (disk, a file per worker)"),
    ("cli_w2_merged", "`netring capture --workers 2 -w FILE.pcapng` (disk, merged)"),
    ("ring_loop", "C TPACKET_V3 loop, count only (bench/ring_loop.c)"),
    ("ring_loop_touch", "C TPACKET_V3 loop, reads 5-tuple"),
    ("tcpdump", "tcpdump -w /dev/null -B 65536"),
    ("netsniff", "netsniff-ng -o /dev/null -S 64MiB"),
    ("tcpdump_file", "tcpdump -w FILE.pcap -B 65536 (disk)"),
    ("netsniff_file", "netsniff-ng -o FILE.pcap -S 64MiB (disk)"),
    ("netring_xdp", "netring AF_XDP, count only (rx-netring --backend xdp)"),
    ("netring_xdp_ab", "netring AF_XDP, count only, AB_DIST build"),
    ("xsk_loop", "C AF_XDP loop, count only (bench/xsk_loop.c)"),
    ("pb_xsk", "C AF_XDP receiver, libxdp, count only (peerbench pb_xsk)"),
    ("flows_ipfix", "`netring flows -q --ipfix` (to nfcapd on loopback)"),
    ("flows_ipfix_w2", "`netring flows --workers 2 -q --ipfix` (to nfcapd on loopback)"),
    ("flows_ipfix_ab", "`netring flows -q --ipfix`, AB_DIST build (to nfcapd on loopback)"),
    ("softflowd", "softflowd -v 10 (libpcap; IPFIX to nfcapd on loopback)"),
])
SLOW = 1.5  # a run whose vCPU canary took > SLOW x the fastest one ran on a slowed-down vCPU
NETRING = ["netring", "netring_iter", "netring_touch", "netring_pcapng", "cli", "cli_q", "cli_pcap", "cli_ab", "cli_pcap_ab", "cli_q_ab",
           "cli_file", "cli_file_pcap", "cli_w2", "cli_w2_pcap", "cli_w2_file", "cli_w2_merged", "netring_xdp", "netring_xdp_ab", "flows_ipfix", "flows_ipfix_w2", "flows_ipfix_ab"]
# receivers writing to a real file are compared with tcpdump writing to a real file
ON_DISK = {"cli_file", "cli_file_pcap", "cli_w2_file", "cli_w2_merged"}


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, nd=3):
    return "–" if x is None else f"{x:.{nd}f}"


def num(r, k):
    try:
        return float(r[k])
    except (KeyError, ValueError, TypeError):
        return None


def main(argv):
    rows = list(csv.DictReader(open(argv[0])))
    env = open(argv[1]).read().strip() if len(argv) > 1 else ""
    sizes, modes, rcvs = [], [], []
    for r in rows:
        for lst, k in ((sizes, "size"), (modes, "mode"), (rcvs, "receiver")):
            if r[k] not in lst:
                lst.append(r[k])
    rcvs.sort(key=lambda x: list(LABEL).index(x) if x in LABEL else 99)
    ok = [r for r in rows if r["status"] == "ok"]
    group = {}
    for r in ok:
        group.setdefault((r["size"], r["mode"], r["receiver"]), []).append(r)

    def col(size, mode, rcv, k):
        return [x for x in (num(r, k) for r in group.get((size, mode, rcv), [])) if x is not None]

    def rx_mpps(r):
        g, d, s = num(r, "gen_mpps"), num(r, "received"), num(r, "sent")
        return g * d / s if g is not None and d is not None and s else None

    cg = [x for x in (num(r, "canary_gen_us") for r in rows) if x]
    cr = [x for x in (num(r, "canary_rx_us") for r in rows) if x]
    cg0, cr0 = (min(cg) if cg else None), (min(cr) if cr else None)

    def slow(r):
        a, b = num(r, "canary_gen_us"), num(r, "canary_rx_us")
        return (a is not None and cg0 and a > SLOW * cg0) or (b is not None and cr0 and b > SLOW * cr0)

    out = []
    if env:
        out.append("```\n" + env + "\n```")
    bad = [r for r in rows if r["status"] != "ok"]
    out.append(f"\nRuns: {len(rows)}, ok: {len(ok)}" + (
        "; not ok: " + ", ".join(f"r{r['rep']} {r['size']} {r['mode']} {r['receiver']}: {r['status']}" for r in bad) if bad else ""))
    for size in sizes:
        out.append(f"\n### {size}-byte frames (median of repetitions)\n")
        out.append("| receiver | mode | gen Mpps | rx Mpps | drop % | kernel drops | CPU ns/pkt | CPU % | reps | slow vCPU |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        for rcv in rcvs:
            for mode in modes:
                rs = group.get((size, mode, rcv), [])
                n_all = sum(1 for r in rows if (r["size"], r["mode"], r["receiver"]) == (size, mode, rcv))
                if n_all == 0:
                    continue
                gen = med(col(size, mode, rcv, "gen_mpps"))
                ns_slow = sum(1 for r in rs if slow(r))
                if rcv == "none":
                    out.append(f"| {LABEL[rcv]} | {mode} | {fmt(gen)} | – | – | – | – | – | {len(rs)}/{n_all} | {ns_slow} |")
                    continue
                rx = med([x for x in map(rx_mpps, rs) if x is not None])
                drop = med(col(size, mode, rcv, "drop_pct"))
                kd = med(col(size, mode, rcv, "kernel_drops"))
                ns = med(col(size, mode, rcv, "ns_per_pkt"))
                cpu = med(col(size, mode, rcv, "cpu_pct"))
                out.append(f"| {LABEL.get(rcv, rcv)} | {mode} | {fmt(gen)} | {fmt(rx)} | {fmt(drop, 2)} | "
                           f"{'–' if kd is None else f'{kd:.0f}'} | {fmt(ns, 1)} | {fmt(cpu, 1)} | {len(rs)}/{n_all} | {ns_slow} |")

    # ratios of CPU ns/pkt, per repetition then median
    def per_rep(size, mode, rcv):
        return {r["rep"]: num(r, "ns_per_pkt") for r in group.get((size, mode, rcv), []) if num(r, "ns_per_pkt")}

    lines = []
    for size in sizes:
        for mode in modes:
            for n in NETRING:
                a = per_rep(size, mode, n)
                if not a:
                    continue
                t = per_rep(size, mode, "tcpdump_file" if n in ON_DISK else "tcpdump")
                # the C loop doing the same per-packet work
                # AF_XDP: against the libxdp receiver when it ran, else the raw-syscall C loop
                xdp_ref = "pb_xsk" if per_rep(size, mode, "pb_xsk") else "xsk_loop"
                c = per_rep(size, mode, {"netring_touch": "ring_loop_touch", "netring_xdp": xdp_ref, "netring_xdp_ab": xdp_ref}.get(n, "ring_loop"))
                rc = med([a[k] / c[k] for k in a if k in c])
                rt = med([a[k] / t[k] for k in a if k in t])
                drops = col(size, mode, n, "drop_pct")
                maxdrop = max(drops) if drops else None
                goal = []
                if n in ("netring", "netring_iter"):
                    goal.append("0 drops " + ("✔" if maxdrop is not None and maxdrop <= 0 else "✘"))
                    if rc is not None:
                        goal.append("≤1.5x C " + ("✔" if rc <= 1.5 else "✘"))
                    if rt is not None:
                        goal.append("≤0.5x tcpdump " + ("✔" if rt <= 0.5 else "✘"))
                elif n in ("netring_xdp", "netring_xdp_ab"):  # against the C AF_XDP receiver (pb_xsk, else xsk_loop)
                    goal.append("0 drops " + ("✔" if maxdrop is not None and maxdrop <= 0 else "✘"))
                    if rc is not None:
                        goal.append("≤1.2x C AF_XDP " + ("✔" if rc <= 1.2 else "✘"))
                elif n in ("netring_pcapng", "cli", "cli_pcap", "cli_ab", "cli_pcap_ab"):
                    goal.append("0 drops " + ("✔" if maxdrop is not None and maxdrop <= 0 else "✘"))
                    if n != "netring_pcapng" and rt is not None:
                        goal.append("≤0.6x tcpdump " + ("✔" if rt <= 0.6 else "✘"))
                elif n in ("cli_q", "cli_q_ab"):
                    goal.append("0 drops " + ("✔" if maxdrop is not None and maxdrop <= 0 else "✘"))
                    if rc is not None:
                        goal.append("≤1.3x C " + ("✔" if rc <= 1.3 else "✘"))
                elif n.startswith("flows_"):  # flow metering + IPFIX export, against softflowd on the same traffic
                    goal.append("0 drops " + ("✔" if maxdrop is not None and maxdrop <= 0 else "✘"))
                    sf = per_rep(size, mode, "softflowd")
                    rs = med([a[k] / sf[k] for k in a if k in sf])
                    if rs is not None:
                        goal.append(f"≤0.3x softflowd {'✔' if rs <= 0.3 else '✘'} ({rs:.2f}x)")
                elif n in ON_DISK:
                    td = col(size, mode, "tcpdump_file", "drop_pct")
                    if td and max(td) <= 0:  # where tcpdump writing the same disk drops nothing
                        goal.append("0 drops " + ("✔" if maxdrop is not None and maxdrop <= 0 else "✘"))
                lines.append(f"| {size} | {mode} | {LABEL.get(n, n)} | {fmt(rc, 2)} | {fmt(rt, 2)} | "
                             f"{fmt(maxdrop, 2)} | {', '.join(goal)} |")
    if cg0:
        out.append(f"\nslow vCPU: runs whose canary (fixed CPU work, run before the run on both CPUs) took more than "
                   f"{SLOW}x the fastest seen ({cg0:.0f} us on the generator CPU, {cr0:.0f} us on the receiver CPU).")
    ov = [r for r in rows if r.get("overlap") == "1"]
    if ov:
        out.append(f"\noverlap: {len(ov)} run(s) had another benchmark's generator or receiver running at the start, "
                   "middle or end of the measuring window (repeated if RETRY allowed): " + ", ".join(f"r{r['rep']} {r['size']} {r['mode']} {r['receiver']}" for r in ov))
    if lines:
        out.append("\n### Ratios of receiver CPU ns/pkt (median of per-repetition ratios)\n")
        out.append("| size | mode | receiver | / C loop (touch: / C touch; AF_XDP: / pb_xsk, else / xsk_loop) | / tcpdump (disk: / tcpdump to disk) | worst drop % | goals |")
        out.append("|---|---|---|---|---|---|---|")
        out += lines
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
