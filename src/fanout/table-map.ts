/**
 * The steering table of an eBPF fan-out group: an ARRAY map (u32 -> u32)
 * from a steering program's table index to the member's kernel slot. The
 * group rewrites entries from the main thread; the program (classic steering
 * translated by src/bpf with `tableFd`) reads them, so weights and members
 * change without reloading it.
 */
import { BpfMap, MAP_TYPE } from '../bpf/loader.js';
import { NetringError } from '../errors.js';

/** An ARRAY map of u32 values (the steering table). */
export class SteerTableMap {
  readonly size: number;
  private readonly map: BpfMap;
  private readonly key = new Uint32Array(1);
  private readonly val = new Uint32Array(1);
  private readonly kb = new Uint8Array(this.key.buffer);
  private readonly vb = new Uint8Array(this.val.buffer);

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new NetringError(`steering table size must be >= 1 (got ${size})`, 'EINVAL');
    this.size = size;
    this.map = new BpfMap({ type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: size });
  }

  /** The map's fd (give it to the translator as `tableFd`). */
  get fd(): number { return this.map.fd; }

  /** Write every entry (each one atomically; a packet sees the old or the new value of an entry). */
  write(values: ArrayLike<number>): void {
    if (values.length !== this.size) throw new NetringError(`steering table has ${this.size} entries, got ${values.length}`, 'EINVAL');
    for (let i = 0; i < values.length; i++) {
      this.key[0] = i;
      this.val[0] = values[i];
      this.map.update(this.kb, this.vb);
    }
  }

  close(): void { this.map.close(); }
}
