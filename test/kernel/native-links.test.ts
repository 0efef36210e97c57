/**
 * BPF links through the native core on a veth: an XDP program and a tcx
 * ingress program attach with bpfLinkCreate and show up where iproute2 and
 * bpftool look; bpfLinkDetach takes the XDP program off the device at once,
 * and the links are gone with their fds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { native } from '../../src/native.js';
import { needRoot, withVeth } from '../helpers/netns.js';

const BPF_PROG_TYPE_SCHED_CLS = 3, BPF_PROG_TYPE_XDP = 6;
const BPF_XDP = 37, BPF_TCX_INGRESS = 46;
const XDP_FLAGS_SKB_MODE = 2, XDP_PASS = 2, TCX_PASS = 0;

function retImm(imm: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = 0xb7; new DataView(b.buffer).setInt32(4, imm, true);
  b[8] = 0x95;
  return b;
}

const xdpAttached = (dev: string): boolean => {
  const j = JSON.parse(execFileSync('ip', ['-j', '-d', 'link', 'show', 'dev', dev], { encoding: 'utf8' })) as Array<{ xdp?: unknown }>;
  return j[0].xdp !== undefined;
};
/** Links of the program named `name` (bpftool -j: tcx links print as type "tcx" or, on older bpftool, 11). */
function linksOf(name: string): Array<{ type: string | number }> {
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as Array<{ id: number; name?: string }>;
  const ids = new Set(progs.filter((p) => p.name === name).map((p) => p.id));
  const links = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ type: string | number; prog_id: number }>;
  return links.filter((l) => ids.has(l.prog_id));
}

test('bpfLinkCreate attaches XDP (generic) and tcx ingress programs; bpfLinkDetach removes them', { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    const ifindex = native.ifindex(b);
    const xdp = native.bpfProgLoad(BPF_PROG_TYPE_XDP, retImm(XDP_PASS), 'GPL', BPF_XDP, 0, 'nr_xdp_pass');
    const tc = native.bpfProgLoad(BPF_PROG_TYPE_SCHED_CLS, retImm(TCX_PASS), 'GPL', BPF_TCX_INGRESS, 0, 'nr_tcx_pass');
    try {
      assert.equal(xdpAttached(b), false);
      const xl = native.bpfLinkCreate(xdp, ifindex, BPF_XDP, XDP_FLAGS_SKB_MODE);
      assert.equal(xdpAttached(b), true, 'ip link shows the XDP program');
      const tl = native.bpfLinkCreate(tc, ifindex, BPF_TCX_INGRESS);
      assert.deepEqual(linksOf('nr_tcx_pass').map((l) => String(l.type)).filter((t) => t === 'tcx' || t === '11').length, 1, 'one tcx link');
      native.bpfLinkDetach(xl);
      native.bpfLinkDetach(tl);
      assert.equal(xdpAttached(b), false, 'detached at once, the link fd still open');
      native.close(xl);
      native.close(tl);
      assert.deepEqual(linksOf('nr_tcx_pass'), [], 'the tcx link is gone with its fd');
      assert.throws(() => native.bpfLinkCreate(xdp, 0x7fffffff, BPF_XDP, XDP_FLAGS_SKB_MODE), (e: { code?: string; syscall?: string }) => e.syscall === 'bpf(BPF_LINK_CREATE)' && e.code === 'EINVAL'); // no such device
    } finally {
      native.close(xdp);
      native.close(tc);
    }
  });
});
