/**
 * Combinator programs as XDP or tc programs: the whole pipeline (filters,
 * `when`/`unless`/`conditional`, counters, actions) generated as one eBPF
 * program, straight from the language's IR (predicates through
 * {@link emitTest}, the rest written here), no clang at run time.
 *
 * What runs where in the generated program:
 *
 * - a filter that fails ends the program with a drop (XDP_DROP, TC_ACT_SHOT);
 * - `count NAME` / `inc` / `dec` add to slot NAME of a per-CPU array map
 *   (value: packets, bytes; one slot per named counter);
 * - `count_by flow|src|dst|vlan` adds to a per-CPU hash map keyed by the
 *   IPv4/IPv6 5-tuple, the source or destination address (IPv4 as
 *   ::ffff:a.b.c.d) or the outer VLAN id; packets without such a key, and
 *   packets whose key did not fit (map full), are counted in slots
 *   `by_KEY:other` and `by_KEY:full` of the array map, so nothing is lost
 *   uncounted;
 * - `forward DEV` / `bridge DEV`: XDP: bpf_redirect_map through a devmap
 *   (filled with DEV's ifindex at load), tc: bpf_redirect to DEV's egress;
 *   the program ends there;
 * - `tee DEV` (tc only): bpf_clone_redirect to DEV's egress, the original
 *   goes on; a failed clone counts in slot `tee DEV:failed`. XDP gives a
 *   frame exactly one verdict (drop, pass, transmit or redirect), so it
 *   cannot send a copy and also hand the original to the kernel: refused;
 * - `steer_*` (XDP only): the steering function's symmetric hash picks a
 *   CPU (`hash % cpus`) and bpf_redirect_map sends the frame into that
 *   entry of a CPUMAP; the kernel builds the skb on that CPU, where a
 *   fan-out group in cpu mode hands it to member `cpu % members`
 *   (steer.ts); the program ends there. tc has no CPU redirect, and an
 *   AF_XDP end (`epilogue`) cannot take steered frames: both refused;
 * - `detour`: to the kernel stack now (XDP_PASS, TC_ACT_OK);
 * - `kernel`: the packet goes on and, at the end, to the kernel stack (the
 *   default end); refused when the caller replaces the end (`epilogue`, e.g.
 *   an AF_XDP socket), as one frame cannot go to both;
 * - the end of the pipeline: the `epilogue` the caller gives, or to the
 *   kernel stack (XDP_PASS, TC_ACT_OK).
 *
 * Maps and interface indexes are symbolic here ({@link Reloc}); the loader
 * (attach.ts) creates the maps, resolves the interfaces and patches them.
 */
import {
  E_ADD, E_AND, E_B, E_CALL, E_DW, E_EXIT, E_H, E_JA, E_JEQ, E_JGT, E_JLT, E_JMP, E_JMP32, E_JNE, E_LD, E_IMM, E_LSH, E_SUB, E_W,
  HELPER, R0, R1, R2, R3, R4, R5, R6, R7, R8, R10, formatEbpfInsn, type EbpfInsn,
} from '../../bpf/ebpf.js';
import { EAsm, type ELabel } from '../../bpf/easm.js';
import { MAP_TYPE, type MapSpec } from '../../bpf/loader.js';
import { SKB_FIELD } from '../../bpf/translate.js';
import { LangError } from '../errors.js';
import { Values } from '../ir/value.js';
import { type CountKey, type Fn, isFn, isPred, type PPred, showFn } from '../pfq/ast.js';
import { lowerPred, toDag, type Lowering } from '../pfq/compile.js';
import { parsePfq } from '../pfq/parser.js';
import { availableParallelism } from 'node:os';
import { emitTest, prologue, TC, XDP } from './codegen.js';
import { CPUMAP_QSIZE, emitSteerXdp, steerUnsupported } from './steer.js';

/** A map the program uses, by name. */
export interface MapDecl {
  readonly name: string;
  readonly spec: MapSpec;
}

/** A place in the program the loader patches: a map's fd (64-bit load) or an interface's index (imm). */
export interface Reloc {
  readonly at: number;
  readonly map?: string;
  readonly ifname?: string;
}

/** A per-key counter map. */
export interface KeyedCounter {
  readonly key: CountKey;
  /** Map name (`by_flow`, ...). */
  readonly map: string;
  /** Slots (in the counters array) for packets without this key and for keys that did not fit. */
  readonly otherSlot: number;
  readonly fullSlot: number;
}

/** A generated XDP or tc program. */
export interface HookProgram {
  readonly hook: 'xdp' | 'tc';
  readonly source: string;
  readonly fn: Fn;
  readonly insns: EbpfInsn[];
  readonly maps: readonly MapDecl[];
  readonly relocs: readonly Reloc[];
  /** Counter slot names, in slot order (map `counters`). */
  readonly slots: readonly string[];
  readonly keyed: readonly KeyedCounter[];
  /** Devmap entries in index order (xdp forward/bridge targets). */
  readonly devices: readonly string[];
  /** Interfaces named by `bridge` (the attach step adds the way back). */
  readonly bridges: readonly string[];
  /** Interfaces named by forward/bridge/tee. */
  readonly interfaces: readonly string[];
  /** CPUs the program steers to (CPUMAP entries 0..cpus-1), 0 when it does not steer. */
  readonly cpus: number;
  /** Numbered listing, maps and interfaces by name. */
  listing(): string;
  /** Where each part runs. */
  explain(): string;
}

/** Options of {@link generateProgram}. */
export interface ProgramOptions {
  hook: 'xdp' | 'tc';
  /** Emit the end of the pipeline yourself (registers as {@link prologue} sets them); default: to the kernel stack. */
  epilogue?: (a: EAsm) => void;
  /** Entries of each per-key hash map (default 16384). */
  maxKeys?: number;
  /** CPUs `steer_*` spreads over (CPUMAP entries 0..cpus-1; default: the CPUs online here). */
  cpus?: number;
}

/** Key sizes of the per-key maps. */
export const KEY_SIZE: Record<CountKey, number> = { flow: 40, src: 16, dst: 16, vlan: 4 };
/** Counter values: packets, bytes (u64 each, per CPU). */
export const COUNTER_VALUE_SIZE = 16;

// Stack below the expression slots of emitTest (-8 .. -320).
const KEY = -448; // 40 bytes, 8-aligned
const VAL = -400; // 16 bytes
const IDX = -376; // 4 bytes
const ETH_P_8021Q = 0x8100, ETH_P_8021AD = 0x88a8, ETH_P_IP = 0x0800, ETH_P_IPV6 = 0x86dd;

/** Parse (when given text) and generate a combinator program for the XDP or tc hook. Throws LangError with the reason. */
export function generateProgram(input: string | Fn | PPred, opts: ProgramOptions): HookProgram {
  const hook = opts.hook;
  const src = typeof input === 'string' ? input : '';
  const fn: Fn = typeof input === 'string' ? parsePfq(input) : isPred(input) ? { k: 'filter', p: input } : (input as Fn);
  if (!isFn(fn)) throw new LangError('not a program: expected a computation or a predicate');
  const source = src || showFn(fn);
  const L: Lowering = { V: new Values(), src, target: hook === 'xdp' ? 'file' : 'kernel' };
  const fail = (msg: string, f?: Fn): never => {
    const loc = f && 'loc' in f ? f.loc : undefined;
    throw new LangError(`${hook === 'xdp' ? 'XDP' : 'tc'} program: ${msg}`, src, loc?.pos ?? -1, loc?.end ?? -1);
  };

  const a = new EAsm();
  const relocs: Array<{ at: number; map?: string; ifname?: string }> = [];
  const slots: string[] = [];
  const keyed: KeyedCounter[] = [];
  const devices: string[] = [];
  const bridges: string[] = [];
  const interfaces: string[] = [];
  const cpus = opts.cpus ?? availableParallelism();
  let steers = false;
  const slot = (name: string): number => {
    let i = slots.indexOf(name);
    if (i < 0) { i = slots.length; slots.push(name); }
    return i;
  };
  const useIf = (dev: string): void => { if (!interfaces.includes(dev)) interfaces.push(dev); };
  const ldMap = (reg: number, name: string): void => {
    relocs.push({ at: a.length, map: name });
    a.ldMap(reg, 0);
  };
  const lenInto = (reg: number): void => {
    if (hook === 'xdp') a.mov64X(reg, R8);
    else a.ldx(E_W, reg, R8, SKB_FIELD.len);
  };
  const DROP = a.label('drop');
  const PASS = a.label('pass');
  const dropCode = hook === 'xdp' ? XDP.DROP : TC.SHOT;
  const passCode = hook === 'xdp' ? XDP.PASS : TC.OK;

  /** Add `delta` packets (and delta * length bytes) to counter slot `idx`. */
  const count = (idx: number, delta: number): void => {
    a.st(E_W, R10, IDX, idx);
    ldMap(R1, 'counters');
    a.mov64X(R2, R10).alu64(E_ADD, R2, IDX);
    a.call(HELPER.map_lookup_elem);
    const SKIP = a.label('cnt');
    a.jmp(E_JEQ, R0, 0, SKIP);
    a.ldx(E_DW, R1, R0, 0).alu64(E_ADD, R1, delta).stx(E_DW, R0, 0, R1);
    lenInto(R2);
    a.ldx(E_DW, R1, R0, 8).alu64X(delta < 0 ? E_SUB : E_ADD, R1, R2).stx(E_DW, R0, 8, R1);
    a.here(SKIP);
  };

  /** Per-key counters: build the key on the stack, add to its entry (creating it), or count it as other/full. */
  const countBy = (key: CountKey): void => {
    const map = `by_${key}`;
    let k = keyed.find((x) => x.key === key);
    if (!k) {
      k = { key, map, otherSlot: slot(`${map}:other`), fullSlot: slot(`${map}:full`) };
      keyed.push(k);
    }
    const OTHER = a.label('other'), STORE = a.label('store'), DONE = a.label('done');
    const size = KEY_SIZE[key];
    if (size === 4) a.st(E_W, R10, KEY, 0);
    else for (let o = 0; o < size; o += 8) a.st(E_DW, R10, KEY + o, 0);
    if (key === 'vlan') {
      a.mov32(R3, -1); // untagged
      if (hook === 'tc') {
        const INLINE = a.label('inline');
        a.ldx(E_W, R1, R8, SKB_FIELD.vlan_present).jmp(E_JEQ, R1, 0, INLINE);
        a.ldx(E_W, R3, R8, SKB_FIELD.vlan_tci).alu32(E_AND, R3, 0xfff).ja(STORE);
        a.here(INLINE);
      }
      const TAG = a.label('tag');
      a.mov64X(R1, R6).alu64(E_ADD, R1, 16).jmpX(E_JGT, R1, R7, STORE);
      a.ldx(E_H, R2, R6, 12).be(R2, 16);
      a.jmp32(E_JEQ, R2, ETH_P_8021Q, TAG).jmp32(E_JNE, R2, ETH_P_8021AD, STORE);
      a.here(TAG);
      a.ldx(E_H, R3, R6, 14).be(R3, 16).alu32(E_AND, R3, 0xfff);
      a.here(STORE);
      a.stx(E_W, R10, KEY, R3);
    } else {
      // r2 = EtherType after up to two VLAN tags, r3 = offset of the network header.
      a.mov64X(R1, R6).alu64(E_ADD, R1, 14).jmpX(E_JGT, R1, R7, OTHER);
      a.ldx(E_H, R2, R6, 12).be(R2, 16).mov64(R3, 14);
      for (const t of [0, 1]) {
        const TAG = a.label('tag'), NOT = a.label('untagged');
        a.jmp32(E_JEQ, R2, ETH_P_8021Q, TAG).jmp32(E_JNE, R2, ETH_P_8021AD, NOT);
        a.here(TAG);
        a.mov64X(R1, R6).alu64(E_ADD, R1, 18 + 4 * t).jmpX(E_JGT, R1, R7, OTHER);
        a.ldx(E_H, R2, R6, 16 + 4 * t).be(R2, 16).mov64(R3, 18 + 4 * t);
        a.here(NOT);
      }
      a.mov64X(R4, R6).alu64X(E_ADD, R4, R3); // r4 = network header
      const V6 = a.label('v6');
      a.jmp32(E_JEQ, R2, ETH_P_IPV6, V6).jmp32(E_JNE, R2, ETH_P_IP, OTHER);
      // IPv4
      a.mov64X(R1, R4).alu64(E_ADD, R1, 20).jmpX(E_JGT, R1, R7, OTHER);
      const v4addr = (ipOff: number, keyOff: number): void => {
        a.st(E_H, R10, KEY + keyOff + 10, 0xffff);
        a.ldx(E_W, R1, R4, ipOff).stx(E_W, R10, KEY + keyOff + 12, R1);
      };
      if (key === 'src' || key === 'dst') {
        v4addr(key === 'src' ? 12 : 16, 0);
        a.ja(STORE);
      } else {
        v4addr(12, 0);
        v4addr(16, 16);
        a.ldx(E_B, R1, R4, 9).stx(E_B, R10, KEY + 36, R1);
        a.ldx(E_H, R2, R4, 6).be(R2, 16).alu32(E_AND, R2, 0x1fff).jmp32(E_JNE, R2, 0, STORE); // a later fragment: no ports
        ports(a, R1, STORE);
        a.ldx(E_B, R5, R4, 0).alu32(E_AND, R5, 0xf).alu32(E_LSH, R5, 2).jmp(E_JLT, R5, 20, STORE);
        a.alu64X(E_ADD, R4, R5);
        a.mov64X(R1, R4).alu64(E_ADD, R1, 4).jmpX(E_JGT, R1, R7, STORE);
        a.ldx(E_W, R1, R4, 0).stx(E_W, R10, KEY + 32, R1);
        a.ja(STORE);
      }
      // IPv6
      a.here(V6);
      a.mov64X(R1, R4).alu64(E_ADD, R1, 40).jmpX(E_JGT, R1, R7, OTHER);
      const v6addr = (ipOff: number, keyOff: number): void => {
        a.ldx(E_DW, R1, R4, ipOff).stx(E_DW, R10, KEY + keyOff, R1);
        a.ldx(E_DW, R1, R4, ipOff + 8).stx(E_DW, R10, KEY + keyOff + 8, R1);
      };
      if (key === 'src' || key === 'dst') {
        v6addr(key === 'src' ? 8 : 24, 0);
      } else {
        v6addr(8, 0);
        v6addr(24, 16);
        a.ldx(E_B, R1, R4, 6).stx(E_B, R10, KEY + 36, R1);
        ports(a, R1, STORE);
        a.mov64X(R1, R4).alu64(E_ADD, R1, 44).jmpX(E_JGT, R1, R7, STORE);
        a.ldx(E_W, R1, R4, 40).stx(E_W, R10, KEY + 32, R1);
      }
      a.here(STORE);
    }
    const NEW = a.label('new');
    ldMap(R1, map);
    a.mov64X(R2, R10).alu64(E_ADD, R2, KEY);
    a.call(HELPER.map_lookup_elem);
    a.jmp(E_JEQ, R0, 0, NEW);
    a.ldx(E_DW, R1, R0, 0).alu64(E_ADD, R1, 1).stx(E_DW, R0, 0, R1);
    lenInto(R2);
    a.ldx(E_DW, R1, R0, 8).alu64X(E_ADD, R1, R2).stx(E_DW, R0, 8, R1);
    a.ja(DONE);
    // No entry yet: this CPU's slot of a new entry starts at (1, length); others start at 0.
    a.here(NEW);
    a.st(E_DW, R10, VAL, 1);
    lenInto(R1);
    a.stx(E_DW, R10, VAL + 8, R1);
    ldMap(R1, map);
    a.mov64X(R2, R10).alu64(E_ADD, R2, KEY);
    a.mov64X(R3, R10).alu64(E_ADD, R3, VAL);
    a.mov64(R4, 0); // BPF_ANY: another CPU may have created the entry meanwhile; this CPU's slot was 0 either way
    a.call(HELPER.map_update_elem);
    a.jmp(E_JEQ, R0, 0, DONE);
    count(k.fullSlot, 1);
    a.ja(DONE);
    if (key !== 'vlan') {
      a.here(OTHER);
      count(k.otherSlot, 1);
    }
    a.here(DONE);
  };

  const test = (p: PPred, T: ELabel, F: ELabel, f: Fn): void => {
    const dag = toDag(lowerPred(p, L), 1);
    try {
      emitTest(a, dag, { hook, matchNext: true }, T, F); // every caller places T right after
    } catch (e) {
      if (e instanceof LangError && e.pos < 0) fail(e.reason.replace(/^eBPF \(\w+\): /, ''), f);
      throw e;
    }
  };

  const emit = (f: Fn): void => {
    switch (f.k) {
      case 'unit':
        return;
      case 'seq':
        f.fs.forEach(emit);
        return;
      case 'filter': {
        const T = a.label('pass');
        test(f.p, T, DROP, f);
        a.here(T);
        return;
      }
      case 'when': {
        const T = a.label('then'), E = a.label('else');
        test(f.p, T, E, f);
        a.here(T);
        emit(f.f);
        a.here(E);
        return;
      }
      case 'cond': {
        const T = a.label('then'), E = a.label('else'), J = a.label('join');
        test(f.p, T, E, f);
        a.here(T);
        emit(f.f);
        a.ja(J);
        a.here(E);
        emit(f.g);
        a.here(J);
        return;
      }
      case 'steer': {
        if (hook === 'tc') fail(`'${f.name}': steering needs the XDP hook (a CPUMAP redirect); a CPUMAP is a redirect target of XDP programs only, and a tc program cannot hand a packet to another CPU`, f);
        if (opts.epilogue) fail(`'${f.name}': this program ends in AF_XDP sockets, and an AF_XDP socket receives only frames of the queue it is bound to: steering between sockets would need them all on one queue sharing one fill ring, which netring's AF_XDP sockets do not do; steer to fan-out members (a program of its own, without the AF_XDP end)`, f);
        if (!Number.isInteger(cpus) || cpus < 1 || cpus > 4096) fail(`steering over ${cpus} CPUs: give 1..4096`, f);
        const why = steerUnsupported(f.s, cpus);
        if (why) fail(why, f);
        steers = true;
        emitSteerXdp(a, f.s, cpus, (reg) => ldMap(reg, 'cpumap'));
        return;
      }
      case 'act':
        switch (f.act.a) {
          case 'drop':
            a.ja(DROP);
            return;
          case 'pass':
            return;
          case 'detour':
            a.ja(PASS);
            return;
          case 'kernel':
            if (opts.epilogue) fail("'kernel' asks for the packet both at the end of the program and in the kernel stack; a frame gets one verdict here: use 'detour'", f);
            return;
          case 'count':
            count(slot(f.act.name), f.act.delta);
            return;
          case 'count_by':
            countBy(f.act.key);
            return;
          case 'forward':
          case 'bridge': {
            const dev = f.act.dev;
            useIf(dev);
            if (f.act.a === 'bridge' && !bridges.includes(dev)) bridges.push(dev);
            if (hook === 'xdp') {
              let j = devices.indexOf(dev);
              if (j < 0) { j = devices.length; devices.push(dev); }
              ldMap(R1, 'devmap');
              a.mov64(R2, j).mov64(R3, 0); // a missing entry would give XDP_ABORTED (0): the loader fills every entry
              a.call(HELPER.redirect_map).exit();
            } else {
              relocs.push({ at: a.length, ifname: dev });
              a.mov64(R1, 0).mov64(R2, 0);
              a.call(HELPER.redirect).exit();
            }
            return;
          }
          case 'tee': {
            if (hook === 'xdp') fail("'tee' needs the tc hook (--hook tc): XDP gives a frame one verdict (drop, pass, transmit or redirect), so it cannot send a copy out and also hand the original to the kernel; a devmap broadcast redirect sends copies out of devices, but none to the local stack", f);
            const dev = f.act.dev;
            useIf(dev);
            a.mov64X(R1, R8);
            relocs.push({ at: a.length, ifname: dev });
            a.mov64(R2, 0).mov64(R3, 0);
            a.call(HELPER.clone_redirect);
            const OK = a.label('teed');
            a.jmp(E_JEQ, R0, 0, OK);
            count(slot(`tee ${dev}:failed`), 1);
            a.here(OK);
            // bpf_clone_redirect may move the packet: every packet pointer is stale now.
            a.ldx(E_W, R7, R8, SKB_FIELD.data_end).ldx(E_W, R6, R8, SKB_FIELD.data);
            return;
          }
          default:
            return fail(`'${showFn(f)}' changes user-space state (class, mark, log, broadcast), which an XDP or tc program does not have`, f);
        }
    }
  };

  prologue(a, hook);
  const prologueLength = a.length;
  emit(fn);
  if (opts.epilogue) opts.epilogue(a);
  else a.ja(PASS);
  a.here(PASS).ret(passCode);
  a.here(DROP).ret(dropCode);
  let { insns, relocs: moved } = compact(a.assemble(), relocs);
  // A program that never reads the packet or the context registers (drop, pass, a bare devmap
  // redirect) needs no prologue: leave it out, as a hand-written program would.
  const rest = insns.slice(prologueLength);
  const uses = (r: number): boolean => rest.some((x) => x.dst === r || x.src === r);
  if (!opts.epilogue && ![R6, R7, R8].some(uses)) {
    insns = rest;
    moved = moved.map((r) => ({ ...r, at: r.at - prologueLength }));
  } else if (hook === 'xdp' && !opts.epilogue && !uses(R8)) {
    // nothing reads the frame length: drop `r8 = r7; r8 -= r6` (instructions 2 and 3; every jump is past them, forward)
    insns = [...insns.slice(0, 2), ...insns.slice(4)];
    moved = moved.map((r) => ({ ...r, at: r.at - 2 }));
  }

  const maps: MapDecl[] = [];
  if (slots.length) maps.push({ name: 'counters', spec: { type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: COUNTER_VALUE_SIZE, maxEntries: slots.length, name: 'nr_counters' } });
  for (const k of keyed) maps.push({ name: k.map, spec: { type: MAP_TYPE.PERCPU_HASH, keySize: KEY_SIZE[k.key], valueSize: COUNTER_VALUE_SIZE, maxEntries: opts.maxKeys ?? 16384, name: `nr_${k.map}` } });
  if (devices.length) maps.push({ name: 'devmap', spec: { type: MAP_TYPE.DEVMAP, keySize: 4, valueSize: 4, maxEntries: devices.length, name: 'nr_devmap' } });
  if (steers) maps.push({ name: 'cpumap', spec: { type: MAP_TYPE.CPUMAP, keySize: 4, valueSize: 4, maxEntries: cpus, name: 'nr_cpumap' } });
  // Only maps the remaining code still names (dead branches may have dropped some uses).
  const usedMaps = maps.filter((m) => moved.some((r) => r.map === m.name));

  const prog: HookProgram = {
    hook, source, fn, insns, maps: usedMaps, relocs: moved, slots, keyed, devices, bridges, interfaces,
    cpus: usedMaps.some((m) => m.name === 'cpumap') ? cpus : 0,
    listing: () => listing(insns, moved),
    explain: () => explainHook(prog),
  };
  return prog;
}

/** Jump to `to` unless the protocol in `reg` carries ports (TCP, UDP, SCTP). */
function ports(a: EAsm, reg: number, to: ELabel): void {
  const YES = a.label('ports');
  a.jmp32(E_JEQ, reg, 6, YES).jmp32(E_JEQ, reg, 17, YES).jmp32(E_JNE, reg, 132, to);
  a.here(YES);
}

/**
 * Drop the instructions no path reaches (the verifier refuses unreachable
 * code; e.g. what follows a forward in a sequence), fixing jump offsets and
 * relocation indexes.
 */
export function compact(prog: EbpfInsn[], relocs: readonly Reloc[]): { insns: EbpfInsn[]; relocs: Reloc[] } {
  const n = prog.length;
  const wide = (i: number): boolean => prog[i].code === (E_LD | E_IMM | E_DW);
  const reach = new Uint8Array(n);
  const stack = [0];
  while (stack.length) {
    const i = stack.pop()!;
    if (i >= n || reach[i]) continue;
    reach[i] = 1;
    const x = prog[i];
    const cls = x.code & 7;
    if (wide(i)) { reach[i + 1] = 1; stack.push(i + 2); continue; }
    if (cls === E_JMP || cls === E_JMP32) {
      const op = x.code & 0xf0;
      if (cls === E_JMP && op === E_EXIT) continue;
      if (cls === E_JMP && op === E_CALL) { stack.push(i + 1); continue; }
      stack.push(i + 1 + x.off);
      if (!(cls === E_JMP && op === E_JA)) stack.push(i + 1);
      continue;
    }
    stack.push(i + 1);
  }
  // A jump over nothing but removed instructions goes where falling through goes: drop it too.
  const keep = reach.slice();
  for (let i = 0; i < n; i++) {
    const x = prog[i];
    if (!reach[i] || x.code !== (E_JMP | E_JA) || (i > 0 && wide(i - 1))) continue;
    const t = i + 1 + x.off;
    let over = t > i;
    for (let j = i + 1; over && j < t; j++) if (reach[j]) over = false;
    if (over) keep[i] = 0;
  }
  const map = new Int32Array(n + 1);
  let k = 0;
  for (let i = 0; i < n; i++) { map[i] = k; if (keep[i]) k++; }
  map[n] = k;
  const out: EbpfInsn[] = [];
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue;
    const x = { ...prog[i] };
    const cls = x.code & 7;
    const op = x.code & 0xf0;
    const isJump = (cls === E_JMP || cls === E_JMP32) && !(cls === E_JMP && (op === E_EXIT || op === E_CALL)) && !(i > 0 && wide(i - 1));
    if (isJump) x.off = map[i + 1 + prog[i].off] - map[i] - 1;
    out.push(x);
  }
  return { insns: out, relocs: relocs.filter((r) => keep[r.at]).map((r) => ({ ...r, at: map[r.at] })) };
}

function listing(insns: readonly EbpfInsn[], relocs: readonly Reloc[]): string {
  const by = new Map(relocs.map((r) => [r.at, r]));
  const w = String(insns.length).length;
  const lines: string[] = [];
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i];
    const r = by.get(i);
    let text = formatEbpfInsn(x, insns[i + 1]);
    if (r?.map) text = `r${x.dst} = map[${r.map}] ll`;
    else if (r?.ifname) text = `r${x.dst} = ifindex(${r.ifname})`;
    lines.push(`${String(i).padStart(w)}: ${text}`);
    if (x.code === (E_LD | E_IMM | E_DW)) i++;
  }
  return lines.join('\n');
}

function explainHook(p: HookProgram): string {
  const hookName = p.hook === 'xdp' ? 'XDP program (eBPF, BPF link on the interface)' : 'tc program (eBPF, tcx ingress link on the interface)';
  const out = [`program: ${p.source}`, '', `${hookName}, ${p.insns.length} instructions: the whole program runs in the kernel, before any copy`];
  out.push(`  a failing filter: ${p.hook === 'xdp' ? 'XDP_DROP' : 'TC_ACT_SHOT'}; the end of the program and detour: ${p.hook === 'xdp' ? 'XDP_PASS' : 'TC_ACT_OK'} (the kernel stack)`);
  for (const m of p.maps) {
    const what = m.name === 'counters' ? `per-CPU array, slots: ${p.slots.map((s, i) => `${i}=${s}`).join(', ')}`
      : m.name === 'devmap' ? `devmap, entries: ${p.devices.map((d, i) => `${i}=${d}`).join(', ')}`
      : m.name === 'cpumap' ? `CPUMAP, CPUs 0..${p.cpus - 1} (${CPUMAP_QSIZE} frames queued each): a steered frame becomes an skb on its CPU, where a fan-out group in cpu mode (capture --workers N --fanout cpu) hands it to member cpu % N`
      : `per-CPU hash, ${m.spec.maxEntries} keys of ${m.spec.keySize} bytes (packets, bytes per key)`;
    out.push(`  map ${m.name}: ${what}`);
  }
  if (p.bridges.length) out.push(`  bridge: attaching also attaches the way back on ${p.bridges.join(', ')}`);
  out.push('user space: nothing per packet (counters are read from the maps)');
  return out.join('\n');
}

/**
 * The way back of a program that bridges: `bridge DEV` becomes
 * `forward IFACE` (IFACE: where the program itself is attached), to be
 * attached on DEV. Null when the program does not bridge; refused when it
 * bridges to more than one interface.
 */
export function mirrorOf(code: HookProgram, iface: string): Fn | null {
  if (code.bridges.length === 0) return null;
  if (code.bridges.length > 1) throw new LangError(`bridge joins two interfaces: this program bridges ${iface} to ${code.bridges.join(' and ')}; use forward for the others`);
  if (code.bridges[0] === iface) throw new LangError(`bridge ${iface}: the program is attached to ${iface} itself`);
  const map = (f: Fn): Fn => {
    switch (f.k) {
      case 'act':
        return f.act.a === 'bridge' ? { ...f, act: { a: 'forward', dev: iface } } : f;
      case 'when':
        return { ...f, f: map(f.f) };
      case 'cond':
        return { ...f, f: map(f.f), g: map(f.g) };
      case 'seq':
        return { ...f, fs: f.fs.map(map) };
      default:
        return f;
    }
  };
  return map(code.fn);
}
