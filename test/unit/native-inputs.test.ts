/**
 * The native core refuses bad lengths and pointers from JS before any syscall:
 * short map keys/values, empty or oversized classic BPF programs, eBPF
 * programs whose length is not a multiple of 8, long interface names, bad
 * mmap lengths. The good inputs next to each bad one pass, so every check is
 * pinned at the kernel's own limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../../src/native.js';
import { needRoot } from '../helpers/netns.js';

const AF_INET = 2;
const SOCK_DGRAM = 2;
const BPF_MAP_TYPE_HASH = 1;
const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
const BPF_PROG_TYPE_SOCKET_FILTER = 1;
const BPF_PROG_TYPE_XDP = 6;
const XDP_PASS = 2;

const range = (re: RegExp) => (e: unknown) => e instanceof RangeError && re.test(e.message);

/** n classic BPF "ret #0" records */
function cbpf(n: number): Uint8Array {
  const b = new Uint8Array(n * 8);
  const v = new DataView(b.buffer);
  for (let i = 0; i < n; i++) v.setUint16(i * 8, 0x06, true); // BPF_RET|BPF_K, k = 0
  return b;
}

/** eBPF: r0 = imm; exit */
function retImm(imm: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  b[0] = 0xb7; v.setInt32(4, imm, true);
  b[8] = 0x95;
  return b;
}

function withUdp<T>(fn: (fd: number) => T): T {
  const fd = native.socket(AF_INET, SOCK_DGRAM, 0);
  try { return fn(fd); } finally { native.close(fd); }
}

test('attachFilter: 0 and 4097 instructions are refused naming the 4096 limit; 1 and 4096 attach', () => {
  withUdp((fd) => {
    assert.throws(() => native.attachFilter(fd, new Uint8Array(0)), range(/1\.\.4096 /));
    assert.throws(() => native.attachFilter(fd, cbpf(4097)), range(/1\.\.4096 /));
    assert.throws(() => native.attachFilter(fd, new Uint8Array(12)), range(/8-byte/));
    native.attachFilter(fd, cbpf(1));
    native.attachFilter(fd, cbpf(4096));
  });
});

test('setFanoutProgram: 0 and 4097 instructions are refused before the syscall', () => {
  withUdp((fd) => {
    assert.throws(() => native.setFanoutProgram(fd, new Uint8Array(0)), range(/4096/));
    assert.throws(() => native.setFanoutProgram(fd, cbpf(4097)), range(/4096/));
    // a valid program reaches the kernel, which refuses it on a UDP socket (not AF_PACKET)
    assert.throws(() => native.setFanoutProgram(fd, cbpf(1)), (e: { code?: string }) => typeof e.code === 'string' && !(e instanceof RangeError));
  });
});

test('mmap: zero, negative, fractional, NaN and huge lengths are refused without a syscall', () => {
  for (const len of [0, -4096, 4096.5, NaN, Infinity, 2 ** 64]) {
    assert.throws(() => native.mmap(-1, len, false), range(/length must be a positive integer/), String(len));
  }
  // a valid length reaches mmap(2), which fails on fd -1 with EBADF
  assert.throws(() => native.mmap(-1, 4096, false), (e: { code?: string }) => e.code === 'EBADF');
});

test('ioctl helpers refuse interface names of IFNAMSIZ (16) bytes or more instead of truncating', () => {
  const long = 'lo' + 'x'.repeat(14); // 16 bytes: truncation would have asked about a different name
  assert.throws(() => native.tsInfo(long), range(/1\.\.15 bytes/));
  assert.throws(() => native.hwtstamp(long, 0, 0), range(/1\.\.15 bytes/));
  assert.throws(() => native.hwtstampGet(long), range(/1\.\.15 bytes/));
  assert.throws(() => native.tsInfo(''), range(/1\.\.15 bytes/));
  assert.throws(() => native.ifindex('l'.repeat(16)), (e: { code?: string }) => e.code === 'ENODEV');
  assert.equal(native.ifindex('lo'), 1);
  assert.equal(native.tsInfo('lo').length, 4);
});

test('bpfProgLoad: a length that is not a multiple of 8, or 0, is refused', { skip: needRoot }, () => {
  assert.throws(() => native.bpfProgLoad(BPF_PROG_TYPE_SOCKET_FILTER, new Uint8Array(12), 'GPL'), range(/8-byte instructions \(got 12 bytes\)/));
  assert.throws(() => native.bpfProgLoad(BPF_PROG_TYPE_SOCKET_FILTER, new Uint8Array(0), 'GPL'), range(/non-empty/));
  const fd = native.bpfProgLoad(BPF_PROG_TYPE_SOCKET_FILTER, retImm(0), 'GPL');
  assert.ok(fd > 2);
  native.close(fd);
});

test('bpfProgLoad: a refused program throws with the verifier log in the message and .log', { skip: needRoot }, () => {
  const exitOnly = new Uint8Array(8);
  exitOnly[0] = 0x95; // exit with r0 never written
  let err: (Error & { log?: string; code?: string }) | undefined;
  try { native.bpfProgLoad(BPF_PROG_TYPE_SOCKET_FILTER, exitOnly, 'GPL'); } catch (e) { err = e as typeof err; }
  assert.ok(err, 'the verifier must refuse exit with r0 unset');
  assert.equal(err.code, 'EACCES');
  assert.match(err.message, /verifier log:\n[\s\S]*R0 !read_ok/);
  assert.match(err.log ?? '', /R0 !read_ok/);
});

test('map functions check key and value buffers against the map (short key, short value, per-CPU size)', { skip: needRoot }, () => {
  const fd = native.bpfMapCreate(BPF_MAP_TYPE_HASH, 8, 4, 16, 0, 'nr_test');
  try {
    const [type, ks, vs, max] = native.bpfMapInfo(fd);
    assert.deepEqual([type, ks, vs, max], [BPF_MAP_TYPE_HASH, 8, 4, 16]);
    const key = new Uint8Array(8);
    const shortKey = new Uint8Array(4);
    const val = new Uint32Array(1);
    assert.throws(() => native.bpfMapLookup(fd, shortKey, val), range(/key buffer is 4 bytes, the map needs 8/));
    assert.throws(() => native.bpfMapLookup(fd, null, val), range(/key buffer is 0 bytes/));
    assert.throws(() => native.bpfMapLookup(fd, key, new Uint8Array(3)), range(/value buffer is 3 bytes, the map needs 4/));
    assert.throws(() => native.bpfMapUpdate(fd, shortKey, val), range(/key buffer/));
    assert.throws(() => native.bpfMapUpdate(fd, key, new Uint8Array(2)), range(/value buffer/));
    assert.throws(() => native.bpfMapDelete(fd, shortKey), range(/key buffer/));
    assert.throws(() => native.bpfMapNextKey(fd, null, shortKey), range(/next key buffer is 4 bytes/));
    // the right sizes work: three entries in, three keys out, lookups and deletes agree
    for (let i = 1; i <= 3; i++) {
      key[0] = i; val[0] = i * 100;
      native.bpfMapUpdate(fd, key, val, 0);
    }
    key[0] = 2;
    assert.equal(native.bpfMapLookup(fd, key, val), true);
    assert.equal(val[0], 200);
    const seen: number[] = [];
    const next = new Uint8Array(8);
    let cur: Uint8Array | null = null;
    while (native.bpfMapNextKey(fd, cur, next)) { seen.push(next[0]); cur = next.slice(); }
    assert.deepEqual(seen.sort(), [1, 2, 3]);
    assert.equal(native.bpfMapDelete(fd, key), true);
    assert.equal(native.bpfMapDelete(fd, key), false);
    assert.equal(native.bpfMapLookup(fd, key, val), false);
  } finally { native.close(fd); }

  const cpus = native.bpfPossibleCpus();
  assert.ok(cpus >= 1);
  const pc = native.bpfMapCreate(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 2);
  try {
    const k = new Uint32Array([1]);
    // 4 bytes per CPU is what a careless caller passes; the kernel writes 8 per CPU
    assert.throws(() => native.bpfMapLookup(pc, k, new Uint8Array(4 * cpus)), range(new RegExp(`needs ${8 * cpus}`)));
    const v = new Uint32Array(2 * cpus);
    for (let c = 0; c < cpus; c++) v[2 * c] = 7 + c;
    native.bpfMapUpdate(pc, k, v, 0);
    const back = new Uint32Array(2 * cpus);
    assert.equal(native.bpfMapLookup(pc, k, back), true);
    for (let c = 0; c < cpus; c++) assert.equal(back[2 * c], 7 + c);
  } finally { native.close(pc); }
});

test('bpfProgTestRun: an XDP program runs on given bytes, the output is copied back within the buffer', { skip: needRoot }, () => {
  const prog = native.bpfProgLoad(BPF_PROG_TYPE_XDP, retImm(XDP_PASS), 'GPL');
  try {
    const data = new Uint8Array(64).map((_, i) => i);
    const out = new Uint8Array(128);
    const [ret, , outLen] = native.bpfProgTestRun(prog, data, out, 3);
    assert.equal(ret, XDP_PASS);
    assert.equal(outLen, 64);
    assert.deepEqual(out.subarray(0, 64), data);
    // an output buffer shorter than the packet: ENOSPC, never a write past it
    const guard = new Uint8Array(64).fill(0xee);
    assert.throws(() => native.bpfProgTestRun(prog, data, guard.subarray(0, 16)), (e: { code?: string }) => e.code === 'ENOSPC');
    assert.ok(guard.subarray(16).every((x) => x === 0xee), 'bytes after the output buffer untouched');
  } finally { native.close(prog); }
});

test('attachBpf: an eBPF socket filter attaches with SO_ATTACH_BPF', { skip: needRoot }, () => {
  const prog = native.bpfProgLoad(BPF_PROG_TYPE_SOCKET_FILTER, retImm(0), 'GPL');
  try { withUdp((fd) => native.attachBpf(fd, prog)); } finally { native.close(prog); }
  withUdp((fd) => assert.throws(() => native.attachBpf(fd, -1), (e: { code?: string }) => e.code === 'EBADF'));
});
