/**
 * PacketView: ONE reused object through which a batch exposes each of its
 * packets. Reading a field is a typed-array load at the packet's header; no
 * allocation, no copy, no native call. `bytes` makes a view object (still no
 * copy); `copy()` is the explicit copy.
 *
 * Lifetime: a view is valid while its batch is held. After the batch is
 * released every getter throws a NetringError with code ERELEASED, so misuse
 * is caught instead of silently reading a block the kernel is refilling.
 */
import type { PacketViewLike } from './batch-like.js';
import { NetringError } from '../errors.js';
import { TpStatus } from '../constants.js';
import { Sll, Tp3 } from './layout.js';

function released(): NetringError {
  return new NetringError('packet view used after its batch was released (copy() what you keep)', 'ERELEASED');
}

/** A packet in a ring block, read in place. Implements {@link PacketViewLike}. */
export class PacketView implements PacketViewLike {
  /** The whole ring as bytes (the backing store, never copied). */
  readonly data: Uint8Array;
  /** Link type: 1 (Ethernet) for a capture on one interface, 276 (LINKTYPE_LINUX_SLL2) for the cooked capture of `any`. */
  linkType = 1;
  /** @internal byte offset of the tpacket3_hdr in `data`, -1 once released */
  _h = -1;
  /** @internal bytes of the cooked (SLL2) header written in front of the network header: 0 or 20 */
  _pre = 0;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly u16: Uint16Array;

  /** @internal */
  constructor(buffer: ArrayBuffer) {
    this.data = new Uint8Array(buffer);
    this.u32 = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    this.i32 = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    this.u16 = new Uint16Array(buffer, 0, buffer.byteLength >>> 1);
  }

  private get h(): number {
    const h = this._h;
    if (h < 0) throw released();
    return h;
  }

  /** Offset of the frame (link-layer header; the SLL2 header for `any`) in `data`. */
  get offset(): number { const h = this.h; return h + this.u16[(h + Tp3.Mac) >>> 1] - this._pre; }
  /** Bytes captured (tp_snaplen, plus the SLL2 header for `any`). */
  get caplen(): number { return this.u32[(this.h + Tp3.Snaplen) >>> 2] + this._pre; }
  /** Length on the wire (tp_len, plus the SLL2 header for `any`, as libpcap counts it). */
  get wireLen(): number { return this.u32[(this.h + Tp3.Len) >>> 2] + this._pre; }
  /** Timestamp seconds. */
  get sec(): number { return this.u32[(this.h + Tp3.Sec) >>> 2]; }
  /** Timestamp nanoseconds. */
  get nsec(): number { return this.u32[(this.h + Tp3.Nsec) >>> 2]; }
  /** Timestamp in nanoseconds since the epoch (allocates a BigInt). */
  get timestampNs(): bigint { const h = this.h; return BigInt(this.u32[(h + Tp3.Sec) >>> 2]) * 1_000_000_000n + BigInt(this.u32[(h + Tp3.Nsec) >>> 2]); }
  /** Timestamp in milliseconds since the epoch (a double, ~microsecond precision). */
  get timestampMs(): number { const h = this.h; return this.u32[(h + Tp3.Sec) >>> 2] * 1e3 + this.u32[(h + Tp3.Nsec) >>> 2] / 1e6; }
  /** Raw tp_status bits. */
  get status(): number { return this.u32[(this.h + Tp3.Status) >>> 2]; }
  /** caplen < wireLen: the frame was cut by snaplen or frame space. */
  get truncated(): boolean { const h = this.h; return this.u32[(h + Tp3.Snaplen) >>> 2] < this.u32[(h + Tp3.Len) >>> 2]; }

  /**
   * @internal Cooked capture (`any`, SOCK_DGRAM): write the 20-byte SLL2 header
   * (protocol, reserved, ifindex, ARPHRD type, packet type, address length,
   * address: all from the slot's sockaddr_ll) right before the network header.
   * The kernel leaves at least 28 unused bytes there (TPACKET_ALIGN(tp_hdrlen)
   * + 16 - tp_hdrlen for SOCK_DGRAM), so nothing of the packet is overwritten.
   */
  _cook(): void {
    const h = this._h;
    const d = this.data;
    const o = h + this.u16[(h + Tp3.Mac) >>> 1] - 20;
    if (o < h + Sll.PktType + 10) throw new NetringError('cooked capture: no room for the SLL2 header in the frame', 'EGEOMETRY');
    d[o] = d[h + Sll.Protocol];
    d[o + 1] = d[h + Sll.Protocol + 1];
    d[o + 2] = 0;
    d[o + 3] = 0;
    const ifindex = this.i32[(h + Sll.Ifindex) >>> 2];
    d[o + 4] = ifindex >>> 24; d[o + 5] = (ifindex >>> 16) & 0xff; d[o + 6] = (ifindex >>> 8) & 0xff; d[o + 7] = ifindex & 0xff;
    const hatype = this.u16[(h + Sll.Hatype) >>> 1];
    d[o + 8] = hatype >>> 8; d[o + 9] = hatype & 0xff;
    d[o + 10] = d[h + Sll.PktType];
    d[o + 11] = d[h + Sll.PktType + 1]; // sll_halen
    d.copyWithin(o + 12, h + Sll.PktType + 2, h + Sll.PktType + 10); // sll_addr[8]
  }
  /** The kernel was dropping packets when this one was stored (TpStatus.Losing). */
  get losing(): boolean { return (this.u32[(this.h + Tp3.Status) >>> 2] & TpStatus.Losing) !== 0; }
  /** The frame did not fit the frame space and was copied partially (TpStatus.Copy). */
  get copied(): boolean { return (this.u32[(this.h + Tp3.Status) >>> 2] & TpStatus.Copy) !== 0; }
  /** The timestamp came from the device clock (TpStatus.TsRawHardware). */
  get hardwareTimestamp(): boolean { return (this.i32[(this.h + Tp3.Status) >>> 2] & (TpStatus.TsRawHardware | TpStatus.TsSysHardware)) !== 0; }
  /** The kernel flagged the stamp as the skb's software stamp (when unset the kernel stamped the packet at ring time). */
  get softwareTimestamp(): boolean { return (this.u32[(this.h + Tp3.Status) >>> 2] & TpStatus.TsSoftware) !== 0; }
  /** An 802.1Q/802.1ad tag was moved into metadata by the device. */
  get vlanValid(): boolean { return (this.u32[(this.h + Tp3.Status) >>> 2] & TpStatus.VlanValid) !== 0; }
  /** VLAN TCI from metadata (0 when none). */
  get vlanTci(): number { const h = this.h; return (this.u32[(h + Tp3.Status) >>> 2] & TpStatus.VlanValid) !== 0 ? this.u32[(h + Tp3.VlanTci) >>> 2] & 0xffff : 0; }
  /** VLAN id (low 12 bits of the TCI). */
  get vlanId(): number { return this.vlanTci & 0x0fff; }
  /** VLAN TPID from metadata (0x8100/0x88a8), 0 when none. */
  get vlanTpid(): number {
    const h = this.h;
    const st = this.u32[(h + Tp3.Status) >>> 2];
    if ((st & TpStatus.VlanValid) === 0) return 0;
    return (st & TpStatus.VlanTpidValid) !== 0 ? this.u16[(h + Tp3.VlanTpid) >>> 1] : 0x8100;
  }
  /** Flow hash the kernel computed (tp_rxhash; 0 when not filled). */
  get rxHash(): number { return this.u32[(this.h + Tp3.RxHash) >>> 2]; }
  /** Interface index from sockaddr_ll. */
  get ifindex(): number { return this.i32[(this.h + Sll.Ifindex) >>> 2]; }
  /** sll_pkttype: 0 host, 1 broadcast, 2 multicast, 3 otherhost, 4 outgoing. */
  get pktType(): number { return this.data[this.h + Sll.PktType]; }
  /** EtherType from sockaddr_ll (host order). */
  get protocol(): number { const h = this.h + Sll.Protocol; return (this.data[h] << 8) | this.data[h + 1]; }
  /** ARPHRD_* device type from sockaddr_ll. */
  get hatype(): number { return this.u16[(this.h + Sll.Protocol + 6) >>> 1]; }

  /** A Uint8Array VIEW of the captured bytes (allocates a view object, copies nothing). */
  get bytes(): Uint8Array {
    const h = this.h;
    const off = h + this.u16[(h + Tp3.Mac) >>> 1];
    return this.data.subarray(off, off + this.u32[(h + Tp3.Snaplen) >>> 2]);
  }

  /** A copy of the captured bytes that stays valid after the batch is released. */
  copy(): Uint8Array {
    const h = this.h;
    const off = h + this.u16[(h + Tp3.Mac) >>> 1];
    return this.data.slice(off, off + this.u32[(h + Tp3.Snaplen) >>> 2]);
  }

  /** A plain object with every field and a copy of the bytes (for keeping, logging, tests). */
  toJSON(): CopiedPacket {
    return {
      sec: this.sec, nsec: this.nsec, caplen: this.caplen, wireLen: this.wireLen, ifindex: this.ifindex,
      pktType: this.pktType, vlanValid: this.vlanValid, vlanTci: this.vlanTci, vlanTpid: this.vlanTpid,
      status: this.status, bytes: this.copy(),
    };
  }
}

/** A packet copied out of the ring: safe to keep. */
export interface CopiedPacket {
  sec: number;
  nsec: number;
  caplen: number;
  wireLen: number;
  ifindex: number;
  pktType: number;
  vlanValid: boolean;
  vlanTci: number;
  vlanTpid: number;
  status: number;
  bytes: Uint8Array;
}
