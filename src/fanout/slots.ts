/**
 * The kernel's member numbering inside a fan-out group, modelled so a
 * steering program can return the right slot: members are numbered in join
 * order; when one leaves, the last member moves into its slot
 * (net/packet/af_packet.c: __fanout_link / __fanout_unlink).
 */
export class SlotTable {
  /** order[slot] = member */
  private readonly order: number[] = [];

  /** Member `m` joined: it takes the next slot. Returns the slot. */
  join(m: number): number {
    if (this.order.includes(m)) throw new Error(`member ${m} joined twice`);
    this.order.push(m);
    return this.order.length - 1;
  }

  /** Member `m` left (its socket closed): the last member moves into its slot. */
  leave(m: number): void {
    const i = this.order.indexOf(m);
    if (i < 0) return;
    const last = this.order.pop()!;
    if (i < this.order.length) this.order[i] = last;
  }

  /** Members in the group now. */
  get size(): number { return this.order.length; }

  /** slots[m] = slot of member m, -1 when not in the group, for members 0..n-1. */
  slots(n: number): number[] {
    const s = new Array<number>(n).fill(-1);
    this.order.forEach((m, slot) => { if (m < n) s[m] = slot; });
    return s;
  }
}
