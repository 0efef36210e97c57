/**
 * Our classic BPF in the real kernel: for a set of expressions (VLAN, QinQ,
 * MPLS, ports, hosts, accessors, lengths), compile for the 'kernel' target,
 * attach to an AF_PACKET capture on one end of a veth pair, send the whole
 * packet corpus from the other end (inside a fresh namespace), and check
 * that exactly the frames the interpreter accepts arrive, i.e. the kernel
 * and our interpreter agree on every packet (the kernel moves the outer
 * VLAN tag to metadata; the interpreter gets the same view).
 * Also checks the JS backend on the captured packet views themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { openCapture, type Capture } from '../../src/index.js';
import { compileFilter, runBpf, compileProgram, type PipelineResult } from '../../src/lang/index.js';
import { needRoot, sleep, withVeth } from '../helpers/netns.js';
import { buildCorpus, kernelView } from '../fixtures/lang/corpus.js';
import { corpusExpressions } from '../fixtures/lang/exprs.js';

const EXPRS = [
  '', 'ip', 'ip6', 'arp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'not ip', 'tcp port 80', 'port 53', 'udp port 53 or tcp port 443',
  'portrange 1-1023', 'host 10.0.0.1', 'src host 10.0.0.1', 'net 10.0.0.0/8', 'host 2001:db8::1', 'net 2001:db8::/32',
  'ether host 02:00:00:00:00:01', 'ether broadcast', 'ether multicast', 'ip multicast', 'ip6 multicast',
  'vlan', 'vlan 10', 'vlan 20', 'vlan 100', 'vlan and ip', 'vlan and tcp port 80', 'vlan 10 and host 10.0.0.1',
  'vlan and vlan', 'vlan 100 and vlan 200', 'vlan and vlan and ip', 'not vlan', 'vlan or ip', 'vlan and ip6 and icmp6',
  'mpls', 'mpls 100', 'mpls and ip', 'mpls and mpls and ip', 'mpls 16 and mpls 17', 'vlan and mpls and ip',
  'tcp[13] & 2 != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn', 'ip[6:2] & 0x1fff != 0', 'ip[8] < 5', 'udp[8:2] = 0x0100',
  'icmp[icmptype] = icmp-echo', 'icmp6[icmp6type] = icmp6-echo', 'ip6 proto 44', 'ether[12:2] = 0x8100', 'ether proto 0x88cc',
  'less 64', 'greater 100', 'len > 100 and tcp', 'stp', 'iso', 'llc', 'ip[(ip[0] & 0xf) * 4] = 8', 'ether[len - 1] = 0',
  // offsets kept in scratch words (three levels of Geneve in the corpus)
  'geneve and tcp port 80', 'geneve and geneve', 'geneve and geneve and geneve', 'geneve and geneve and geneve and tcp port 80',
];

interface Sent {
  frame: Uint8Array;
  view: ReturnType<typeof kernelView>;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Take batches until `sentAt()` is set and nothing arrived for `idleMs` since then and since the last batch. */
async function drain(cap: Capture, sentAt: () => number, idleMs: number, maxMs: number): Promise<Array<{ bytes: Uint8Array; vlanValid: boolean; vlanTci: number; vlanTpid: number; js: number }>> {
  const out: Array<{ bytes: Uint8Array; vlanValid: boolean; vlanTci: number; vlanTpid: number; js: number }> = [];
  const start = Date.now();
  let last = Date.now();
  while ((sentAt() === 0 || Date.now() - Math.max(last, sentAt()) < idleMs) && Date.now() - start < maxMs) {
    const b = cap.tryBatch();
    if (b === null) {
      await sleep(5);
      continue;
    }
    last = Date.now();
    for (let p = b.next(); p !== null; p = b.next()) out.push({ bytes: p.copy(), vlanValid: p.vlanValid, vlanTci: p.vlanTci, vlanTpid: p.vlanTpid, js: -1 });
  }
  cap.tryBatch();
  return out;
}

test('the kernel accepts exactly the corpus frames our interpreter accepts (veth in a namespace)', { skip: needRoot }, async () => {
  // Frames the kernel delivers: >= 14 bytes; with a leading 802.1Q/802.1ad tag, >= 20 (skb_vlan_untag pulls 6 bytes past the MAC header).
  const sent: Sent[] = [];
  for (const p of buildCorpus()) {
    const frame = p.data.slice(0, p.caplen);
    if (frame.length < 14) continue;
    const tpid = (frame[12] << 8) | frame[13];
    if ((tpid === 0x8100 || tpid === 0x88a8) && frame.length < 20) continue; // the kernel drops tagged frames it cannot untag
    sent.push({ frame, view: kernelView({ ...p, data: frame, wireLen: p.caplen }) });
  }
  assert.ok(sent.length > 1500);
  const dir = mkdtempSync(join(tmpdir(), 'netring-lang-kern-'));
  const file = join(dir, 'frames');
  const parts: Buffer[] = [];
  for (const s of sent) {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(s.frame.length);
    parts.push(h, Buffer.from(s.frame));
  }
  writeFileSync(file, Buffer.concat(parts));
  const known = new Set(sent.map((s) => hex(s.view.data)));
  const failures: string[] = [];
  try {
    await withVeth(
      async ({ a, b, ns }) => {
        const script = fileURLToPath(new URL('./lang-sender.js', import.meta.url));
        const child = spawn('ip', ['netns', 'exec', ns!, process.execPath, script], {
          env: { ...process.env, NETRING_LANG_SENDER: '1', NETRING_LANG_FRAMES: file, NETRING_LANG_IFACE: a },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        const lines = createInterface({ input: child.stdout! });
        const replies: string[] = [];
        lines.on('line', (l) => replies.push(l));
        const sendAll = async (): Promise<void> => {
          const before = replies.length;
          child.stdin!.write('go\n');
          for (let i = 0; i < 6000 && replies.length === before; i++) await sleep(5);
          assert.equal(replies[before], `sent ${sent.length}`);
        };
        try {
          for (const expr of EXPRS) {
            const f = compileFilter(expr, { target: 'kernel' });
            const cap = openCapture({ iface: b, filter: f.insns, blockSize: 1 << 22, blockCount: 8, blockTimeoutMs: 20 });
            await sleep(20);
            // Drain while sending: retired blocks must go back to the kernel or it drops packets.
            let sentAt = 0;
            const draining = drain(cap, () => sentAt, 300, 30000);
            await sendAll();
            sentAt = Date.now();
            const got = await draining;
            const st = cap.stats();
            cap.close();
            if (st.drops !== 0) failures.push(`${expr}: the ring dropped ${st.drops} packets`);
            const want: string[] = [];
            for (const s of sent) {
              const v = s.view;
              if (runBpf(f.insns, v.data, 0, v.caplen, v.wireLen, { vlanPresent: v.vlanValid, vlanTci: v.vlanTci, vlanTpid: v.vlanTpid }) !== 0) want.push(hex(v.data));
            }
            const have = got.map((g) => hex(g.bytes)).filter((h) => known.has(h));
            want.sort();
            have.sort();
            if (expr.startsWith('geneve') && have.length === 0) failures.push(`${expr}: the kernel accepted no frame`);
            if (want.join() !== have.join()) {
              const w = new Set(want);
              const h = new Set(have);
              failures.push(`${expr || '(empty)'}: kernel ${have.length} interpreter ${want.length}; only kernel: ${[...h].filter((x) => !w.has(x)).slice(0, 3).join(' ')}; only interpreter: ${[...w].filter((x) => !h.has(x)).slice(0, 3).join(' ')}`);
            }
            // The JS backend on the very packet views the ring delivered.
            for (const g of got) {
              if (!known.has(hex(g.bytes))) continue;
              const pl = { data: g.bytes, offset: 0, caplen: g.bytes.length, wireLen: g.bytes.length, sec: 0, nsec: 0, vlanValid: g.vlanValid, vlanTci: g.vlanTci, vlanTpid: g.vlanTpid, ifindex: 0, pktType: 0, linkType: 1 };
              if (f.match(pl) === 0) failures.push(`${expr}: JS rejects a frame the kernel accepted`);
            }
          }
        } finally {
          child.stdin!.end();
          child.kill();
        }
      },
      { ns: true },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(failures, []);
});

test('a combinator program: kernel socket filter + JS residual on live packets', { skip: needRoot }, async () => {
  const prog = compileProgram('filter "vlan or ip or ip6" >-> inc seen >-> when is_tcp (inc tcp) >-> when (has_vid 10) (mark 10)');
  assert.ok(prog.socketFilter && prog.residual);
  const frames: Uint8Array[] = buildCorpus().filter((p) => p.caplen === p.wireLen && p.caplen >= 18).map((p) => p.data);
  const dir = mkdtempSync(join(tmpdir(), 'netring-lang-kern2-'));
  const file = join(dir, 'frames');
  writeFileSync(file, Buffer.concat(frames.flatMap((f) => {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(f.length);
    return [h, Buffer.from(f)];
  })));
  try {
    await withVeth(
      async ({ a, b, ns }) => {
        const cap = openCapture({ iface: b, filter: prog.socketFilter!.insns, blockSize: 1 << 22, blockCount: 8, blockTimeoutMs: 20 });
        await sleep(20);
        const child = sendOnce(ns!, a, file);
        const r: PipelineResult = { verdict: 0, mark: 0, cls: 0, log: 0 };
        const offline = compileProgram('filter "vlan or ip or ip6" >-> inc seen >-> when is_tcp (inc tcp) >-> when (has_vid 10) (mark 10)');
        let live = 0;
        let marked = 0;
        const start = Date.now();
        let last = Date.now();
        while (!child.idle(last) && Date.now() - start < 30000) {
          const batch = cap.tryBatch();
          if (batch === null) {
            await sleep(5);
            continue;
          }
          last = Date.now();
          for (let p = batch.next(); p !== null; p = batch.next()) {
            live++;
            prog.residual!.run(p, r);
            if (r.mark === 10) marked++;
          }
        }
        cap.tryBatch();
        cap.close();
        child.kill();
        // Offline: the same program entirely in JS over the kernel's view of the frames.
        const ro: PipelineResult = { verdict: 0, mark: 0, cls: 0, log: 0 };
        let offMarked = 0;
        let offPassed = 0;
        for (const f of frames) {
          const v = kernelView({ name: '', data: f, caplen: f.length, wireLen: f.length });
          const pl = { data: v.data, offset: 0, caplen: v.caplen, wireLen: v.wireLen, sec: 0, nsec: 0, vlanValid: v.vlanValid, vlanTci: v.vlanTci, vlanTpid: v.vlanTpid, ifindex: 0, pktType: 0, linkType: 1 };
          if (offline.full.run(pl, ro) !== 0) {
            offPassed++;
            if (ro.mark === 10) offMarked++;
          }
        }
        assert.equal(live, offPassed, 'packets through the kernel filter = packets the JS program passes');
        assert.equal(prog.residual!.state.counters[0], offline.full.state.counters[0]);
        assert.equal(prog.residual!.state.counters[1], offline.full.state.counters[1]);
        assert.equal(marked, offMarked);
        assert.ok(marked > 10);
      },
      { ns: true },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Start the namespace sender for `file` and send its frames once. `idle(last)`
 * is true once the sender reported "sent N" and nothing arrived for 300 ms
 * since then and since `last` (node's start-up in the namespace takes a
 * while on a loaded machine: the receive loops wait for it).
 */
function sendOnce(ns: string, iface: string, file: string): { idle: (last: number) => boolean; kill: () => void } {
  const script = fileURLToPath(new URL('./lang-sender.js', import.meta.url));
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script], {
    env: { ...process.env, NETRING_LANG_SENDER: '1', NETRING_LANG_FRAMES: file, NETRING_LANG_IFACE: iface },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let sentAt = 0;
  createInterface({ input: child.stdout! }).on('line', (l) => { if (l.startsWith('sent ')) sentAt = Date.now(); });
  child.stdin!.end('go\n');
  return { idle: (last) => sentAt !== 0 && Date.now() - Math.max(last, sentAt) >= 300, kill: () => child.kill() };
}

/** Swap source and destination (MAC, IPv4 address, L4 ports) of an untagged IPv4 TCP/UDP frame. */
function reverse(f: Uint8Array): Uint8Array {
  const r = new Uint8Array(f);
  r.set(f.subarray(0, 6), 6);
  r.set(f.subarray(6, 12), 0);
  r.set(f.subarray(26, 30), 30);
  r.set(f.subarray(30, 34), 26);
  const l4 = 14 + (f[14] & 0xf) * 4;
  r.set(f.subarray(l4, l4 + 2), l4 + 2);
  r.set(f.subarray(l4 + 2, l4 + 4), l4);
  return r;
}

test('a steering program in a real fan-out group: classes from our match programs, flow affinity', { skip: needRoot }, async () => {
  const prog = compileProgram('conditional is_tcp (steer_to 1) steer_flow');
  assert.ok(prog.steering && 'classes' in prog.steering);
  const members = 3;
  const fanout = prog.fanoutProgram(members);
  // Untagged IPv4 TCP/UDP frames of the corpus, each with its reverse direction, and a unique IP id per frame.
  const base = buildCorpus().filter((p) => p.caplen === p.wireLen && /^plain v4 (tcp|udp)/.test(p.name));
  const frames: Uint8Array[] = [];
  base.forEach((p, i) => {
    for (const f of [p.data, reverse(p.data)]) {
      const g = new Uint8Array(f);
      g[18] = frames.length >> 8;
      g[19] = frames.length & 0xff; // IP id = frame number (the IP checksum is not checked on this path)
      frames.push(g);
    }
    void i;
  });
  const dir = mkdtempSync(join(tmpdir(), 'netring-lang-fan-'));
  const file = join(dir, 'frames');
  writeFileSync(file, Buffer.concat(frames.flatMap((f) => {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(f.length);
    return [h, Buffer.from(f)];
  })));
  try {
    await withVeth(
      async ({ a, b, ns }) => {
        // The first member asks the kernel for an unused group id; the others join it.
        const caps: Capture[] = [openCapture({ iface: b, fanout: { mode: 'cbpf', id: 0, uniqueId: true, program: fanout }, blockSize: 1 << 20, blockCount: 4, blockTimeoutMs: 10 })];
        for (let m = 1; m < members; m++) {
          caps.push(openCapture({ iface: b, fanout: { mode: 'cbpf', id: caps[0].fanoutId, program: fanout }, blockSize: 1 << 20, blockCount: 4, blockTimeoutMs: 10 }));
        }
        await sleep(20);
        const child = sendOnce(ns!, a, file);
        const memberOf = new Map<number, number>();
        const start = Date.now();
        let last = Date.now();
        while (!child.idle(last) && Date.now() - start < 30000) {
          let any = false;
          caps.forEach((cap, m) => {
            const batch = cap.tryBatch();
            if (batch === null) return;
            any = true;
            for (let p = batch.next(); p !== null; p = batch.next()) {
              const n = (p.data[p.offset + 18] << 8) | p.data[p.offset + 19];
              assert.ok(!memberOf.has(n), `frame ${n} delivered twice`);
              memberOf.set(n, m);
            }
          });
          if (any) last = Date.now();
          else await sleep(5);
        }
        for (const cap of caps) {
          cap.tryBatch();
          cap.close();
        }
        child.kill();
        assert.equal(memberOf.size, frames.length, 'every frame reached exactly one member');
        const used = new Set<number>();
        for (let i = 0; i < frames.length; i += 2) {
          const tcp = frames[i][23] === 6;
          const fwd = memberOf.get(i)!;
          const rev = memberOf.get(i + 1)!;
          assert.equal(fwd, rev, `both directions of flow ${i / 2} on one member`);
          if (tcp) assert.equal(fwd, 1, 'TCP steered to member 1');
          else used.add(fwd);
        }
        assert.ok(used.size >= 2, 'flow steering spreads non-TCP flows over members');
      },
      { ns: true },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the kernel checker accepts every corpus expression compiled for the kernel target', { skip: needRoot }, async () => {
  const { native } = await import('../../src/native.js');
  const { AF_PACKET, SOCK_RAW } = await import('../../src/constants.js');
  const exprs = [...corpusExpressions('expressions.txt'), ...corpusExpressions('geneve.txt')];
  const fd = native.socket(AF_PACKET, SOCK_RAW, 0); // unbound: receives nothing, but SO_ATTACH_FILTER runs the checker
  const refused: string[] = [];
  let attached = 0;
  try {
    for (const e of exprs) {
      let f;
      try {
        f = compileFilter(e, { target: 'kernel' });
      } catch {
        continue; // refused by the compiler (tcpdump refuses it too, or protochain)
      }
      try {
        native.attachFilter(fd, f.bytes);
        attached++;
      } catch (x) {
        refused.push(`${e}: ${(x as Error).message}`);
      }
    }
  } finally {
    native.close(fd);
  }
  assert.deepEqual(refused, []);
  assert.ok(attached > 400);
});
