/**
 * The SharedArrayBuffer a group and its workers share: control words and
 * per-worker counters. Workers write their own counters once per batch (never
 * per packet); the main thread reads them whenever it likes, without messages.
 *
 * Each counter has exactly one writer (its worker), so plain Float64 stores
 * suffice: a reader may see a value a batch old, never a torn one (aligned
 * 8-byte stores). Control words use Atomics.
 */

/** Worker states as stored in the shared state word. */
export const WState = Object.freeze({ Starting: 0, Ready: 1, Running: 2, Draining: 3, Done: 4, Crashed: 5 } as const);
export type WState = typeof WState[keyof typeof WState];
export const STATE_NAMES = ['starting', 'ready', 'running', 'draining', 'done', 'crashed'] as const;
export type WorkerStateName = typeof STATE_NAMES[number];

/** Number of free counters per worker for user code (ctx.counters). */
export const USER_COUNTERS = 8;

// global Int32 words
const G_STOP = 0, G_ID = 1, G_WORDS = 4;
// per-worker Int32 words
const I_STATE = 0, I_FD = 1, I_TID = 2, I_CPU = 3, I_GEN = 4, I_MAIL = 5, I_BEAT = 6, I_STRIDE = 8;
// per-worker Float64 words
export const F_PACKETS = 0, F_BATCHES = 1, F_KPACKETS = 2, F_DROPS = 3, F_FREEZES = 4, F_UPDATED = 5, F_STARTED = 6;
/**
 * Packets lost with the worker: queued by the kernel to its socket (not
 * dropped) but never handed to a batch() that returned (the batch it died in,
 * what was left in its ring). Set when its socket is closed:
 * kernel packets - drops - packets, cumulative over restarts.
 */
export const F_LOST = 7;
const F_USER = 8, F_STRIDE = F_USER + USER_COUNTERS;

/** Typed views over a group's shared memory. */
export class SharedCounters {
  readonly sab: SharedArrayBuffer;
  readonly workers: number;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  private readonly fBase: number;

  constructor(workers: number, sab?: SharedArrayBuffer) {
    this.workers = workers;
    const iBytes = (G_WORDS + I_STRIDE * workers) * 4;
    this.fBase = Math.ceil(iBytes / 8) * 8;
    this.sab = sab ?? new SharedArrayBuffer(this.fBase + F_STRIDE * workers * 8);
    this.i32 = new Int32Array(this.sab, 0, iBytes / 4);
    this.f64 = new Float64Array(this.sab, this.fBase, F_STRIDE * workers);
    if (sab === undefined) for (let w = 0; w < workers; w++) this.i32[G_WORDS + w * I_STRIDE + I_FD] = -1;
  }

  // ---- control
  get stopping(): boolean { return Atomics.load(this.i32, G_STOP) !== 0; }
  requestStop(): void { Atomics.store(this.i32, G_STOP, 1); }
  get fanoutId(): number { return Atomics.load(this.i32, G_ID); }
  set fanoutId(id: number) { Atomics.store(this.i32, G_ID, id); }

  private iw(w: number, field: number): number { return G_WORDS + w * I_STRIDE + field; }

  state(w: number): WState { return Atomics.load(this.i32, this.iw(w, I_STATE)) as WState; }
  setState(w: number, s: WState): void { Atomics.store(this.i32, this.iw(w, I_STATE), s); }
  fd(w: number): number { return Atomics.load(this.i32, this.iw(w, I_FD)); }
  setFd(w: number, fd: number): void { Atomics.store(this.i32, this.iw(w, I_FD), fd); }
  /** Take the fd slot (set it to -1) and return what it held: whoever takes a valid fd closes it. */
  takeFd(w: number): number { return Atomics.exchange(this.i32, this.iw(w, I_FD), -1); }
  tid(w: number): number { return Atomics.load(this.i32, this.iw(w, I_TID)); }
  setTid(w: number, tid: number): void { Atomics.store(this.i32, this.iw(w, I_TID), tid); }
  cpu(w: number): number { return Atomics.load(this.i32, this.iw(w, I_CPU)); }
  setCpu(w: number, cpu: number): void { Atomics.store(this.i32, this.iw(w, I_CPU), cpu); }
  generation(w: number): number { return Atomics.load(this.i32, this.iw(w, I_GEN)); }
  setGeneration(w: number, g: number): void { Atomics.store(this.i32, this.iw(w, I_GEN), g); }

  /** Progress word: the worker bumps it on every turn of its capture loop (at least once per pollMs while healthy). */
  beat(w: number): number { return Atomics.load(this.i32, this.iw(w, I_BEAT)); }
  bump(w: number): void { Atomics.add(this.i32, this.iw(w, I_BEAT), 1); }

  /** Mailbox sequence of worker w: bumped by the main thread after posting it a control message. */
  mail(w: number): number { return Atomics.load(this.i32, this.iw(w, I_MAIL)); }
  bumpMail(w: number): void {
    Atomics.add(this.i32, this.iw(w, I_MAIL), 1);
    Atomics.notify(this.i32, this.iw(w, I_MAIL));
  }
  /** Block (worker side) until the mailbox moves past `seen` or timeoutMs passes. */
  waitMail(w: number, seen: number, timeoutMs: number): void {
    Atomics.wait(this.i32, this.iw(w, I_MAIL), seen, timeoutMs);
  }

  // ---- counters
  /** Index of worker w's first Float64 counter. */
  base(w: number): number { return w * F_STRIDE; }
  /** Worker w's user counters (a view: writes are visible to the other side). */
  userCounters(w: number): Float64Array {
    return new Float64Array(this.sab, this.fBase + (w * F_STRIDE + F_USER) * 8, USER_COUNTERS);
  }
  get(w: number, field: number): number { return this.f64[w * F_STRIDE + field]; }
  add(w: number, field: number, v: number): void { this.f64[w * F_STRIDE + field] += v; }
  set(w: number, field: number, v: number): void { this.f64[w * F_STRIDE + field] = v; }
  /** Close the books of worker w once its socket is closed: what the kernel queued and nobody took is lost. */
  settleLost(w: number): void {
    const b = w * F_STRIDE;
    const f = this.f64;
    f[b + F_LOST] = Math.max(0, f[b + F_KPACKETS] - f[b + F_DROPS] - f[b + F_PACKETS]);
  }
}
