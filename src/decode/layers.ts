/**
 * The reusable layered decoder. One `Layers` object is filled in place for
 * each packet: plain number fields, no allocation, no exceptions, and no
 * read outside `[offset, offset + caplen)`.
 */
import { u16, u32 } from './bytes.js';
import { DecodeError, Layer, Tunnel, errorName, layerName } from './codes.js';
import { ARP_FIXED_LEN, ArpField } from './arp.js';
import { ETH_HEADER_LEN, EthField, EtherType } from './ethernet.js';
import { GRE_BASE_LEN, GreField, greHeaderLength, greKey } from './gre.js';
import { ICMP_HEADER_LEN, IcmpField } from './icmp.js';
import { IPV4_MIN_HEADER_LEN, IpProto, Ipv4Field, Ipv4Frag } from './ipv4.js';
import { IPV6_HEADER_LEN, Ipv6ExtField, Ipv6Field, isIpv6ExtensionHeader, ipv6ExtHeaderLength } from './ipv6.js';
import { LinkType, NULL_HEADER_LEN, SLL2_HEADER_LEN, SLL_HEADER_LEN, nullFamily, sll2Protocol, sllProtocol } from './linktype.js';
import { TCP_MIN_HEADER_LEN, TcpField } from './tcp.js';
import { UDP_HEADER_LEN, UdpField } from './udp.js';
import { VLAN_TAG_LEN, VlanField, isVlanTpid } from './vlan.js';
import { VXLAN_FLAG_VNI, VXLAN_HEADER_LEN, VxlanField, vxlanVni } from './vxlan.js';
import type { PacketLike } from '../packet-like.js';

const EMPTY = new Uint8Array(0);
const LINKTYPE_ETHERNET = 1;
const RARE_VLAN = 1;
const RARE_FRAG = 2;
const RARE_TUNNEL = 4;
const RARE_MISC = 8;
const RARE_ERROR = 16;
const ARP_BIT = 1 << Layer.ARP;
const ICMP_BITS = (1 << Layer.ICMP) | (1 << Layer.ICMPv6);
/**
 * The numbers `Layers.fast` uses, as literals: module bindings (imported
 * constants, `IpProto.*`) cost a load and a check at every use in optimized
 * code. Each equals the named constant of its protocol module.
 */
const enum K {
  LinkEthernet = 1, EthLen = 14, EthType = 12, EtherTypeIpv4 = 0x0800,
  Ipv4Min = 20, Ipv4Total = 2, Ipv4Frag = 6, FragMask = 0x3fff, Ipv4Proto = 9, Ipv4Src = 12, Ipv4Dst = 16,
  Udp = 17, Tcp = 6, UdpLen = 8, TcpMin = 20,
  /** `1 << Layer.Ethernet | 1 << Layer.IPv4`, `1 << Layer.UDP`, `1 << Layer.TCP`. */
  EthIpv4Bits = 0x42, UdpBit = 0x400, TcpBit = 0x200,
}

/**
 * Layered header decoder over `data[offset .. offset + caplen)`.
 *
 * ```ts
 * const l = new Layers();
 * for (const p of batch) {
 *   if (l.decodePacket(p) !== 0) continue;          // or inspect l.errorText()
 *   if (l.ipProto === IpProto.TCP && (l.tcpFlags & TcpFlag.SYN)) ...
 * }
 * ```
 *
 * Conventions: offsets are absolute indexes into `data` and are -1 when the
 * layer is absent; other numeric fields are 0 when absent. Which layers
 * were decoded is in `present` (test with {@link Layers.has}). When a
 * header cannot be decoded, `errorLayer`/`error` say which and why, the
 * fields of the layers above stay unset, and `payloadOffset`/`payloadLength`
 * cover the bytes of the layer that failed.
 *
 * Lazy: `load`/`loadPacket` only record where the packet is; fields are
 * decoded when first read (see {@link Layers.load}) and kept until the next
 * `load`, so reading a field twice, or reading only some, costs nothing
 * more. `decode`/`decodePacket` load and decode everything at once (for a
 * common packet the layer offsets and lengths are written into the object
 * when first read, from what the decode recorded, not from the bytes).
 *
 * Lifetime: `data` is a reference to the caller's buffer (a ring or file
 * buffer): the object is only meaningful while those bytes are.
 */
export class Layers {
  /** The buffer of the last decode (a reference, never copied). */
  data: Uint8Array = EMPTY;
  /** First byte of the packet. */
  start = 0;
  /** One past the last captured byte: `min(offset + caplen, data.length)`. */
  end = 0;
  /** Link type given to `decode`. */
  linkType = 0;
  private _present = 0;
  private _errorLayer = 0;
  private _error = 0;

  private _l2Offset = -1;
  private _l2Length = 0;
  private _etherType = 0;
  private _vlanCount = 0;
  private _vlanFromMeta = 0;
  private _vlan0Tpid = 0;
  private _vlan0Tci = 0;
  private _vlan1Tpid = 0;
  private _vlan1Tci = 0;

  private _l3Offset = -1;
  private _l3Length = 0;
  private _ipVersion = 0;
  private _srcAddrOffset = -1;
  private _dstAddrOffset = -1;
  private _addrLength = 0;
  private _ipEnd = -1;
  private _ipProto = 0;
  private _ipv6ExtCount = 0;
  private _isFragment = 0;
  private _fragOffset = 0;
  private _fragMore = 0;
  private _fragId = 0;
  private _truncated = 0;

  private _l4Offset = -1;
  private _l4Length = 0;
  private _srcPort = 0;
  private _dstPort = 0;
  private _tcpFlags = 0;

  private _payloadOffset = -1;
  private _payloadLength = 0;

  private _tunnel = 0;
  private _tunnelOffset = -1;
  private _tunnelKey = -1;
  private _tunnelProto = 0;
  private _innerOffset = -1;
  private _innerLinkType = 0;

  /** UDP destination port that is decoded as VXLAN (default 4789; 0 disables). */
  vxlanPort = 4789;

  /** 1 when lengths were unknown or cut by caplen (errors then read "truncated"). */
  private cut = 0;
  /** RARE_* groups of fields set by the last decode (reset lazily). */
  private rare = 0;

  /** How far the current packet is decoded: 0 nothing yet, 1 link, 2 network, 3 everything. */
  /**
   * 1 while the link (l1), network (l2) or transport (l3) stage of the
   * current packet is still to decode. Three flags rather than one stage
   * number keep each field getter (`if (this.lN) this.advance(N)`) small
   * enough for V8 to inline it into the caller.
   */
  private l1 = 0;
  private l2 = 0;
  private l3 = 0;
  /** 1 while the fields `fastShape` writes hold its values and every stage is decoded (the last packet took the one-step path). */
  private shape = 0;
  /**
   * The layer offsets and lengths (present, l2Offset, l3Offset/Length,
   * l4Offset/Length, payload): 0 when written; -1 while the staged decode
   * of the packet is not finished; otherwise the last packet took the
   * one-step path, which left them unwritten and packed here what they
   * derive from: IHL / 4 in bits 0-3, the UDP length or the TCP header
   * length from bit 4 (see `finishOneStep`). Their getters test only this.
   */
  private lz = 0;
  /** 1 when an earlier stage ended the chain (error, or nothing above it). */
  private stop = 0;
  /** 1 when `load` was given an offset/caplen that is not a non-negative integer. */
  private badInput = 0;
  /** Where the next stage starts, and what it is (EtherType for the network stage, protocol for the transport stage). */
  private nx = 0;
  private nt = 0;
  /** @internal 1 sends every packet down the staged path (tests compare it with the one-step path). */
  _noFast = 0;
  /** VLAN tag from packet metadata (`loadPacket`). */
  private metaValid = 0;
  private metaTpid = 0;
  private metaTci = 0;

  /** Bit set of decoded layers: bit `1 << Layer.X`. */
  get present(): number { if (this.lz !== 0) this.cold(3); return this._present; }
  /** {@link Layer} that could not be decoded (0 when `error` is 0). */
  get errorLayer(): number { if (this.l3) this.advance(3); return this._errorLayer; }
  /** {@link DecodeError} code (0 = ok). */
  get error(): number { if (this.l3) this.advance(3); return this._error; }
  /** Offset of the link-layer header (-1 for raw IP). */
  get l2Offset(): number { if (this.lz !== 0) this.cold(1); return this._l2Offset; }
  /** Bytes of link-layer header including in-frame VLAN tags. */
  get l2Length(): number { if (this.l1) this.advance(1); return this._l2Length; }
  /** EtherType after all VLAN tags (also for SLL/SLL2; 0x0800/0x86dd for raw IP). */
  get etherType(): number { if (this.l1) this.advance(1); return this._etherType; }
  /** Number of VLAN tags: in the frame, plus one when the outer tag came from metadata. */
  get vlanCount(): number { if (this.l1) this.advance(1); return this._vlanCount; }
  /** 1 when the outermost tag (`vlan0*`) came from packet metadata (stripped by the device). */
  get vlanFromMeta(): number { if (this.l1) this.advance(1); return this._vlanFromMeta; }
  /** TPID of the outermost tag (0x8100, 0x88a8, 0x9100). */
  get vlan0Tpid(): number { if (this.l1) this.advance(1); return this._vlan0Tpid; }
  /** TCI of the outermost tag (VID = `tci & 0xfff`). */
  get vlan0Tci(): number { if (this.l1) this.advance(1); return this._vlan0Tci; }
  /** TPID of the second tag (QinQ inner tag). */
  get vlan1Tpid(): number { if (this.l1) this.advance(1); return this._vlan1Tpid; }
  /** TCI of the second tag. */
  get vlan1Tci(): number { if (this.l1) this.advance(1); return this._vlan1Tci; }
  /** Offset of the network header (IP or ARP or unknown EtherType payload), -1 if none. */
  get l3Offset(): number { if (this.lz !== 0) this.cold(2); return this._l3Offset; }
  /** 4, 6 or 0. */
  get ipVersion(): number { if (this.l2) this.advance(2); return this._ipVersion; }
  /** IP header bytes: IHL*4, or 40 + extension headers for IPv6. */
  get l3Length(): number { if (this.lz !== 0) this.cold(2); return this._l3Length; }
  /** One past the IP datagram's last captured byte (min of claimed length and captured end). */
  get ipEnd(): number { if (this.l2) this.advance(2); return this._ipEnd; }
  /** Offset of the source address (4 or 16 bytes; ARP: sender protocol address), -1 if none. */
  get srcAddrOffset(): number { if (this.l2) this.advance(2); return this._srcAddrOffset; }
  /** Offset of the destination address, -1 if none. */
  get dstAddrOffset(): number { if (this.l2) this.advance(2); return this._dstAddrOffset; }
  /** Address length: 4, 16 or 0. */
  get addrLength(): number { if (this.l2) this.advance(2); return this._addrLength; }
  /** Upper-layer protocol: IPv4 protocol, or the Next Header after IPv6 extension headers. */
  get ipProto(): number { if (this.l2) this.advance(2); return this._ipProto; }
  /** Number of IPv6 extension headers walked. */
  get ipv6ExtCount(): number { if (this.l2) this.advance(2); return this._ipv6ExtCount; }
  /** 1 when the IP packet is a fragment (MF set or offset non-zero). */
  get isFragment(): number { if (this.l2) this.advance(2); return this._isFragment; }
  /** Fragment offset in bytes. */
  get fragOffset(): number { if (this.l2) this.advance(2); return this._fragOffset; }
  /** 1 when more fragments follow. */
  get fragMore(): number { if (this.l2) this.advance(2); return this._fragMore; }
  /** Fragment identification (IPv4 16-bit id or IPv6 32-bit id). */
  get fragId(): number { if (this.l2) this.advance(2); return this._fragId; }
  /** 1 when the captured bytes are fewer than the IP (or UDP) length claims. */
  get truncated(): number { if (this.l3) this.advance(3); return this._truncated; }
  /** ARP operation (1 request, 2 reply). */
  get arpOp(): number {
    if (this.lz !== 0) this.cold(2);
    return (this._present & ARP_BIT) !== 0 ? u16(this.data, this._l3Offset + ArpField.Op) : 0;
  }
  /** Offset of the transport header (or of the upper-layer header after IP), -1 if none. */
  get l4Offset(): number { if (this.lz !== 0) this.cold(3); return this._l4Offset; }
  /** Transport header bytes (TCP data offset * 4, 8 for UDP/ICMP, GRE header length). */
  get l4Length(): number { if (this.lz !== 0) this.cold(3); return this._l4Length; }
  /** TCP/UDP source port. */
  get srcPort(): number { if (this.l3) this.advance(3); return this._srcPort; }
  /** TCP/UDP destination port. */
  get dstPort(): number { if (this.l3) this.advance(3); return this._dstPort; }
  /** TCP flags (byte 13, NS as 0x100). */
  get tcpFlags(): number { if (this.l3) this.advance(3); return this._tcpFlags; }
  /** ICMP/ICMPv6 type. */
  get icmpType(): number {
    if (this.lz !== 0) this.cold(3);
    return (this._present & ICMP_BITS) !== 0 ? this.data[this._l4Offset + IcmpField.Type]! : 0;
  }
  /** ICMP/ICMPv6 code. */
  get icmpCode(): number {
    if (this.lz !== 0) this.cold(3);
    return (this._present & ICMP_BITS) !== 0 ? this.data[this._l4Offset + IcmpField.Code]! : 0;
  }
  /** Offset of the payload (see the class doc), -1 if none. */
  get payloadOffset(): number { if (this.lz !== 0) this.cold(3); return this._payloadOffset; }
  /** Captured payload bytes. */
  get payloadLength(): number { if (this.lz !== 0) this.cold(3); return this._payloadLength; }
  /** {@link Tunnel} kind (GRE, VXLAN, IP-in-IP) or 0. */
  get tunnel(): number { if (this.l3) this.advance(3); return this._tunnel; }
  /** Offset of the tunnel header (GRE/VXLAN; the inner IP for IP-in-IP), -1 if none. */
  get tunnelOffset(): number { if (this.l3) this.advance(3); return this._tunnelOffset; }
  /** GRE key or VXLAN VNI, -1 when absent. */
  get tunnelKey(): number { if (this.l3) this.advance(3); return this._tunnelKey; }
  /** GRE protocol type (EtherType of the inner packet). */
  get tunnelProto(): number { if (this.l3) this.advance(3); return this._tunnelProto; }
  /** Offset of the encapsulated packet, -1 if none. */
  get innerOffset(): number { if (this.l3) this.advance(3); return this._innerOffset; }
  /** Link type to decode the inner packet with (1 Ethernet, 228 IPv4, 229 IPv6), 0 unknown. */
  get innerLinkType(): number { if (this.l3) this.advance(3); return this._innerLinkType; }

  /** True when layer `id` (a {@link Layer}) was decoded (decodes the whole packet first). */
  has(id: number): boolean {
    return (this.present & (1 << id)) !== 0;
  }

  /** "ipv4: bad header length", or "" when decoding succeeded. Not for hot paths. */
  errorText(): string {
    return this.error === 0 ? '' : `${layerName(this.errorLayer)}: ${errorName(this.error)}`;
  }

  /**
   * Point the decoder at the packet `data[offset .. offset + caplen)` of
   * link type `linkType` (LINKTYPE_*) without reading any of its bytes:
   * decoding starts when a field is first read. A common packet
   * (Ethernet/IPv4/TCP or UDP, valid, no VLAN tag, fragment or tunnel) is
   * then checked and decoded whole in one step, cheaper than in stages;
   * any other packet is decoded stage by stage, each stage when one of its
   * fields is first read (`etherType` the link layer and VLAN tags,
   * `ipProto` the network layer, `dstPort`, `error`, `present` or the
   * payload everything). Each stage is decoded at most once per packet.
   * Returns `this`. Never throws; never reads outside the range (nor past
   * `data.length`).
   */
  load(data: Uint8Array, offset: number, caplen: number, linkType = 1): this {
    // Kept small (bytecode) so that V8 inlines it, and loadPacket, into the caller's loop.
    if (this.data !== data) this.data = data;
    this.linkType = linkType;
    this.metaValid = 0;
    this.shape = 0;
    this.lz = -1;
    this.l1 = 1;
    this.l2 = 1;
    this.l3 = 1;
    const end = offset + caplen;
    if (offset >>> 0 !== offset || caplen >>> 0 !== caplen || end > data.length) return this.loadOdd(data, offset, caplen);
    this.badInput = 0;
    this.start = offset;
    this.end = end;
    return this;
  }

  /** `load` of a range that is not a pair of non-negative integers, or that runs past `data.length`. */
  private loadOdd(data: Uint8Array, offset: number, caplen: number): this {
    if (offset >>> 0 !== offset || caplen >>> 0 !== caplen) {
      this.badInput = 1;
      this.start = 0;
      this.end = 0;
      return this;
    }
    this.badInput = 0;
    let end = offset + caplen;
    if (end > data.length) end = data.length;
    if (offset > end) end = offset;
    this.start = offset;
    this.end = end;
    return this;
  }

  /**
   * {@link load} a {@link PacketLike}. When the device stripped a VLAN tag
   * into metadata (`vlanValid`), it is reported as the outermost tag
   * (`vlan0*`, `vlanFromMeta = 1`) and in-frame tags move one place inwards.
   */
  loadPacket(p: PacketLike): this {
    this.load(p.data, p.offset, p.caplen, p.linkType);
    if (p.vlanValid) this.loadMeta(p);
    return this;
  }

  private loadMeta(p: PacketLike): void {
    this.metaValid = 1;
    this.metaTpid = p.vlanTpid !== 0 ? p.vlanTpid : 0x8100;
    this.metaTci = p.vlanTci;
  }

  /**
   * Decode the whole packet at `data[offset .. offset + caplen)` now
   * ({@link load} + every layer). Returns the {@link DecodeError} code (0 = ok).
   */
  decode(data: Uint8Array, offset: number, caplen: number, linkType = 1): number {
    this.load(data, offset, caplen, linkType);
    return this.error;
  }

  /** Decode a {@link PacketLike} now ({@link loadPacket} + every layer). Returns the {@link DecodeError} code. */
  decodePacket(p: PacketLike): number {
    // Small enough for V8 to inline whatever the caller's inlining budget: the packet's fields are read in advance().
    this.advance(3, p);
    return this._error;
  }

  /**
   * Decode the stages up to `target` (1 link, 2 network, 3 transport and
   * tunnels) that are not decoded yet; called by a field getter whose stage
   * is pending. When decoding of the packet starts (whichever field is read
   * first), the common case is tried in one step: Ethernet without VLAN tag
   * (none in metadata either) / IPv4 (any IHL, lengths consistent and
   * within caplen, not a fragment) / UDP (length within the IP datagram, not
   * on the VXLAN port) or TCP (header within the IP datagram). Such a packet
   * has no other layer and no error: its validity is checked with the fewest
   * reads and every field of the three stages is decided at once, to exactly
   * what the staged path would give: the fields a filter or a flow table
   * reads (protocol, addresses, ports, TCP flags, IP end) are written here,
   * the layer offsets and lengths when one of them is first read
   * (`finishOneStep`, from what `lz` packs; never from the bytes again). Any other packet (or a later stage of
   * one already started) goes to `staged`, having set nothing here. This
   * method is too large for V8 to inline into the getters, which therefore
   * stay small enough to be inlined into the caller's loop. With `pkt`
   * (from `decodePacket`) the packet's fields are read here, so that
   * `decodePacket` itself stays small enough to be inlined into any loop
   * (the reads of `PacketView`'s accessors would otherwise compete with the
   * loop's own calls for V8's inlining budget); the one-step check runs on
   * them as locals, and the packet is loaded (`loadPacket`) only when it is
   * not a one-step packet. The fields all one-step packets share are set by
   * `fastShape`, only when the previous packet was not one.
   */
  private advance(target: number, pkt?: PacketLike): void {
    // Literal constants (K) and `| 0` on every index keep this free of module-binding loads and overflow checks.
    let d: Uint8Array;
    let s: number;
    let end: number;
    if (pkt !== undefined) {
      // decodePacket: the packet is checked from locals; `load` state is written only when the one-step path is not taken.
      d = pkt.data;
      s = pkt.offset;
      const c = pkt.caplen;
      end = s + c;
      if (pkt.linkType !== K.LinkEthernet || pkt.vlanValid || this._noFast !== 0 || s >>> 0 !== s || c >>> 0 !== c || end > d.length) return this.miss(target, pkt);
    } else {
      if (this.l1 === 0) return this.staged(target);
      d = this.data;
      s = this.start;
      end = this.end;
      if (this.linkType !== K.LinkEthernet || (this.metaValid | this.badInput | this._noFast) !== 0) return this.staged(target);
    }
    const p = (s + K.EthLen) | 0;
    if (((p + K.Ipv4Min) | 0) > end || d[(s + K.EthType) | 0]! !== 0x08 || d[(s + K.EthType + 1) | 0]! !== 0x00) return this.miss(target, pkt);
    const b0 = d[p]!;
    const hl = (b0 & 0x0f) << 2;
    const total = (d[(p + K.Ipv4Total) | 0]! << 8) | d[(p + K.Ipv4Total + 1) | 0]!;
    const ipEnd = (p + total) | 0;
    if ((b0 & 0xf0) !== 0x40 || hl < K.Ipv4Min || total < hl || ipEnd > end ||
        (((d[(p + K.Ipv4Frag) | 0]! << 8) | d[(p + K.Ipv4Frag + 1) | 0]!) & K.FragMask) !== 0) return this.miss(target, pkt);
    const q = (p + hl) | 0;
    const proto = d[(p + K.Ipv4Proto) | 0]!;
    let x: number;
    let flags = 0;
    let dp: number;
    if (proto === K.Udp) {
      if (((q + K.UdpLen) | 0) > ipEnd) return this.miss(target, pkt);
      const ulen = (d[(q + 4) | 0]! << 8) | d[(q + 5) | 0]!;
      dp = (d[(q + 2) | 0]! << 8) | d[(q + 3) | 0]!;
      if (ulen < K.UdpLen || ((q + ulen) | 0) > ipEnd || (dp === this.vxlanPort && dp !== 0)) return this.miss(target, pkt);
      x = ulen;
    } else if (proto === K.Tcp) {
      if (((q + K.TcpMin) | 0) > ipEnd) return this.miss(target, pkt);
      const b12 = d[(q + 12) | 0]!;
      x = (b12 >> 4) << 2;
      if (x < K.TcpMin || ((q + x) | 0) > ipEnd) return this.miss(target, pkt);
      flags = ((b12 & 1) << 8) | d[(q + 13) | 0]!;
      dp = (d[(q + 2) | 0]! << 8) | d[(q + 3) | 0]!;
    } else {
      return this.miss(target, pkt);
    }
    // Every byte is read before the first store (stores to `this` make V8 reload the array's length and base).
    const sp = (d[q]! << 8) | d[(q + 1) | 0]!;
    if (this.data !== d) this.data = d;
    this.start = s;
    this.end = end;
    if (this.rare !== 0) this.resetRare();
    // The fields every one-step packet has alike (and the stage flags) are written only when the previous packet was not one.
    if (this.shape === 0) this.fastShape();
    // What a filter or a flow table reads is written now; the layer offsets and lengths when first asked for (`lz`).
    this.lz = (hl >> 2) | (x << 4);
    this._srcAddrOffset = (p + K.Ipv4Src) | 0;
    this._dstAddrOffset = (p + K.Ipv4Dst) | 0;
    this._ipEnd = ipEnd;
    this._ipProto = proto;
    this._srcPort = sp;
    this._dstPort = dp;
    this._tcpFlags = flags;
  }

  /** A getter of the layer offsets and lengths found them unwritten (`lz` not 0): decode up to `target`, or finish the one-step packet. */
  private cold(target: number): void {
    if (this.lz < 0) {
      this.advance(target);
      if (this.lz <= 0) {
        // Staged: written by now (stage 3 sets lz to 0; so does this once every stage is decoded).
        if ((this.l1 | this.l2 | this.l3) === 0) this.lz = 0;
        return;
      }
    }
    this.finishOneStep();
  }

  /** Write the layer offsets and lengths of a one-step packet from what `lz` packs: exactly what the staged path gives. */
  private finishOneStep(): void {
    const z = this.lz;
    this.lz = 0;
    const s = this.start;
    const p = s + K.EthLen;
    const hl = (z & 0x0f) << 2;
    const q = p + hl;
    const x = z >> 4;
    this._l2Offset = s;
    this._l3Offset = p;
    this._l3Length = hl;
    this._l4Offset = q;
    if (this._ipProto === K.Udp) {
      this._present = K.EthIpv4Bits | K.UdpBit;
      this._l4Length = K.UdpLen;
      this._payloadOffset = q + K.UdpLen;
      this._payloadLength = x - K.UdpLen;
    } else {
      this._present = K.EthIpv4Bits | K.TcpBit;
      this._l4Length = x;
      this._payloadOffset = q + x;
      this._payloadLength = this._ipEnd - (q + x);
    }
  }

  /** Not a one-step packet: load it (from `decodePacket`) and decode it stage by stage. */
  private miss(target: number, pkt: PacketLike | undefined): void {
    if (pkt !== undefined) this.loadPacket(pkt);
    this.staged(target);
  }

  /**
   * The fields a one-step packet (Ethernet/IPv4/TCP or UDP) has whatever
   * its bytes, and the stage flags (all decoded). Written once for a run of
   * such packets: `load` and the staged path clear `shape`.
   */
  private fastShape(): void {
    this.shape = 1;
    this.linkType = K.LinkEthernet;
    this.l1 = 0;
    this.l2 = 0;
    this.l3 = 0;
    this._l2Length = K.EthLen;
    this._etherType = K.EtherTypeIpv4;
    this._ipVersion = 4;
    this._addrLength = 4;
  }

  /**
   * Decode the stages up to `target` (1 link, 2 network, 3 transport and
   * tunnels) that are not decoded yet, one stage after the other. The
   * Ethernet/IPv4/TCP/UDP steps are written out in this one method (no
   * calls); rarer layers and every error are separate methods. Each path
   * sets every field of its stage once; the payload range is set where the
   * chain of layers ends.
   */
  private staged(target: number): void {
    const d = this.data;
    const end = this.end;
    if (this.l1 !== 0) {
      // Stage 1: link layer and VLAN tags; the network layer's offset and EtherType go to nx/nt.
      this.l1 = 0;
      this.stop = 0;
      this.cut = 0;
      // Fields of rarer layers (and the error) are reset only when the previous packet set them.
      if (this.rare !== 0) this.resetRare();
      const offset = this.start;
      if (this.linkType === LINKTYPE_ETHERNET && this.badInput === 0 && offset + ETH_HEADER_LEN <= end) {
        this._present = 1 << Layer.Ethernet;
        this._l2Offset = offset;
        const et = u16(d, offset + EthField.Type);
        if (isVlanTpid(et)) {
          this.vlans(offset + ETH_HEADER_LEN, et);
        } else {
          this._etherType = et;
          this._l2Length = ETH_HEADER_LEN;
          this.nx = offset + ETH_HEADER_LEN;
          this.nt = et;
        }
      } else {
        this.linkSlow(offset, end);
      }
      if (this.metaValid !== 0) this.metaVlan();
    }
    if (target < 2) return;
    if (this.l2 !== 0) {
      // Stage 2: IPv4 here; IPv6 (+ extension headers), ARP and the rest in netOther.
      this.l2 = 0;
      const p = this.nx;
      if (this.stop !== 0) {
        this.netClear(-1);
      } else if (this.nt !== EtherType.IPv4) {
        this.netOther(p, this.nt);
      } else if (p + IPV4_MIN_HEADER_LEN > end) {
        this.ipv4Bad(p, DecodeError.Truncated);
      } else {
        const b0 = d[p + Ipv4Field.VersionIhl]!;
        const hl = (b0 & 0x0f) << 2;
        const total = u16(d, p + Ipv4Field.TotalLength);
        let ipEnd = p + total;
        if (b0 >> 4 !== 4 || hl < IPV4_MIN_HEADER_LEN) {
          this.ipv4Bad(p, b0 >> 4 !== 4 ? DecodeError.BadVersion : DecodeError.BadHeaderLength);
        } else if ((total < hl || ipEnd > end) && (ipEnd = this.ipv4End(p, total, hl)) < 0) {
          // ipv4End recorded the error.
        } else {
          this._l3Offset = p;
          this._present |= 1 << Layer.IPv4;
          this._ipVersion = 4;
          this._srcAddrOffset = p + Ipv4Field.Src;
          this._dstAddrOffset = p + Ipv4Field.Dst;
          this._addrLength = 4;
          this._l3Length = hl;
          this._ipEnd = ipEnd;
          const proto = d[p + Ipv4Field.Protocol]!;
          this._ipProto = proto;
          const fw = u16(d, p + Ipv4Field.FlagsFragment);
          if ((fw & Ipv4Frag.FlagsAndOffset) !== 0) this.ipv4Fragment(p, fw);
          if (p + hl > ipEnd) {
            this.ipv4Fail(p, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
          } else if ((fw & Ipv4Frag.OffsetMask) !== 0) {
            // A later fragment: nothing above IP to decode.
            this._payloadOffset = p + hl;
            this._payloadLength = ipEnd - (p + hl);
            this.stop = 1;
          } else {
            this.nx = p + hl;
            this.nt = proto;
          }
        }
      }
    }
    if (target < 3 || this.l3 === 0) return;
    // Stage 3: TCP and UDP here; ICMP, GRE, IP-in-IP in otherL4, VXLAN in vxlan. Every field is written when this returns.
    this.l3 = 0;
    this.lz = 0;
    if (this.stop !== 0) return this.l4Clear(-1);
    const q = this.nx;
    const proto = this.nt;
    const ipEnd = this._ipEnd;
    if (proto === IpProto.UDP) {
      if (q + UDP_HEADER_LEN > ipEnd) return this.l4Short(Layer.UDP, q);
      this._l4Offset = q;
      this._present |= 1 << Layer.UDP;
      const dp = u16(d, q + UdpField.DstPort);
      this._srcPort = u16(d, q + UdpField.SrcPort);
      this._dstPort = dp;
      this._tcpFlags = 0;
      this._l4Length = UDP_HEADER_LEN;
      const ulen = u16(d, q + UdpField.Length);
      let uend = q + ulen;
      if (ulen < UDP_HEADER_LEN || uend > ipEnd) {
        uend = this.udpEnd(q, ulen, ipEnd);
        if (uend < 0) return;
      }
      this._payloadOffset = q + UDP_HEADER_LEN;
      this._payloadLength = uend - (q + UDP_HEADER_LEN);
      if (dp === this.vxlanPort && dp !== 0) this.vxlan(q + UDP_HEADER_LEN, uend);
      return;
    }
    if (proto === IpProto.TCP) {
      if (q + TCP_MIN_HEADER_LEN > ipEnd) return this.l4Short(Layer.TCP, q);
      const b12 = d[q + TcpField.DataOffset]!;
      const hl = (b12 >> 4) << 2;
      this._l4Offset = q;
      this._present |= 1 << Layer.TCP;
      this._srcPort = u16(d, q + TcpField.SrcPort);
      this._dstPort = u16(d, q + TcpField.DstPort);
      this._tcpFlags = ((b12 & 1) << 8) | d[q + TcpField.Flags]!;
      if (hl < TCP_MIN_HEADER_LEN || q + hl > ipEnd) {
        this._l4Length = 0;
        return this.l4Fail(Layer.TCP, q, hl < TCP_MIN_HEADER_LEN ? DecodeError.BadHeaderLength : this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
      }
      this._l4Length = hl;
      this._payloadOffset = q + hl;
      this._payloadLength = ipEnd - (q + hl);
      return;
    }
    this.l4Clear(q);
    // Until a header above IP is decoded, the payload is the IP payload.
    this._payloadOffset = q;
    this._payloadLength = ipEnd - q;
    this.otherL4(q, proto, ipEnd);
  }



  /**
   * Decode the encapsulated packet (GRE, VXLAN, IP-in-IP) into `into`
   * (another reusable `Layers`). Returns false, leaving `into` untouched,
   * when there is no tunnel or the inner link type is unknown.
   */
  decodeInner(into: Layers): boolean {
    if (this.innerOffset < 0 || this.innerLinkType === 0) return false;
    into.vxlanPort = this.vxlanPort;
    // The inner packet ends where the outer payload does (UDP length, IP length), not at trailing padding.
    const end = this.payloadOffset + this.payloadLength;
    into.decode(this.data, this.innerOffset, end > this.innerOffset ? end - this.innerOffset : 0, this.innerLinkType);
    return true;
  }

  /**
   * The payload as a view into `data` (no copy): valid only as long as the
   * packet's buffer is (for a ring, until the batch is released). Allocates
   * a small view object: not for the per-packet hot path; prefer
   * `payloadOffset`/`payloadLength`.
   */
  payload(): Uint8Array {
    if (this.payloadOffset < 0) return EMPTY;
    return this.data.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  /** A copy of the payload that stays valid after the packet's buffer is released. */
  copyPayload(): Uint8Array {
    if (this.payloadOffset < 0) return new Uint8Array(0);
    return this.data.slice(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  /** IPv4 source address as an unsigned 32-bit number (0 unless IPv4). */
  srcIp4(): number {
    return this.ipVersion === 4 ? u32(this.data, this.srcAddrOffset) : 0;
  }

  /** IPv4 destination address as an unsigned 32-bit number (0 unless IPv4). */
  dstIp4(): number {
    return this.ipVersion === 4 ? u32(this.data, this.dstAddrOffset) : 0;
  }

  /** IPv4 TTL or IPv6 hop limit (0 without IP). */
  ttl(): number {
    if (this.ipVersion === 4) return this.data[this.l3Offset + 8]!;
    if (this.ipVersion === 6) return this.data[this.l3Offset + 7]!;
    return 0;
  }

  /** TCP sequence number (0 without TCP). */
  tcpSeq(): number {
    return this.has(Layer.TCP) ? u32(this.data, this.l4Offset + 4) : 0;
  }

  /** TCP acknowledgment number (0 without TCP). */
  tcpAck(): number {
    return this.has(Layer.TCP) ? u32(this.data, this.l4Offset + 8) : 0;
  }

  /** TCP window (unscaled; 0 without TCP). */
  tcpWindow(): number {
    return this.has(Layer.TCP) ? u16(this.data, this.l4Offset + 14) : 0;
  }

  /** End of the readable TCP options: min(header end, captured end); -1 without TCP. */
  tcpOptionsEnd(): number {
    if (!this.has(Layer.TCP)) return -1;
    const h = this.l4Offset + ((this.data[this.l4Offset + 12]! >> 4) << 2);
    return h < this.end ? h : this.end;
  }

  private resetRare(): void {
    const rare = this.rare;
    if ((rare & RARE_VLAN) !== 0) {
      this._vlanCount = 0;
      this._vlanFromMeta = 0;
      this._vlan0Tpid = 0;
      this._vlan0Tci = 0;
      this._vlan1Tpid = 0;
      this._vlan1Tci = 0;
    }
    if ((rare & RARE_FRAG) !== 0) {
      this._isFragment = 0;
      this._fragOffset = 0;
      this._fragMore = 0;
      this._fragId = 0;
    }
    if ((rare & RARE_TUNNEL) !== 0) {
      this._tunnel = 0;
      this._tunnelOffset = -1;
      this._tunnelKey = -1;
      this._tunnelProto = 0;
      this._innerOffset = -1;
      this._innerLinkType = 0;
    }
    if ((rare & RARE_MISC) !== 0) {
      this._ipv6ExtCount = 0;
      this._truncated = 0;
    }
    if ((rare & RARE_ERROR) !== 0) {
      this._errorLayer = 0;
      this._error = 0;
    }
    this.rare = 0;
  }

  private fail(layer: number, code: number): void {
    this._errorLayer = layer;
    this._error = code;
    this.rare |= RARE_ERROR;
    this.stop = 1;
  }



  /** Stage 1 for bad input, a truncated Ethernet header, and the other link types. */
  private linkSlow(offset: number, end: number): void {
    this._present = 0;
    this._l2Offset = -1;
    this._l2Length = 0;
    this._etherType = 0;
    this._payloadOffset = offset;
    this._payloadLength = end - offset;
    if (this.badInput !== 0) {
      this._payloadOffset = -1;
      this._payloadLength = 0;
      return this.fail(Layer.Link, DecodeError.BadOffset);
    }
    if (this.linkType === LINKTYPE_ETHERNET) return this.fail(Layer.Ethernet, DecodeError.Truncated);
    this.otherLink(this.data, offset, end, this.linkType);
  }

  /** The tag from packet metadata becomes the outermost one. */
  private metaVlan(): void {
    this._vlan1Tpid = this._vlan0Tpid;
    this._vlan1Tci = this._vlan0Tci;
    this._vlan0Tpid = this.metaTpid;
    this._vlan0Tci = this.metaTci;
    this._vlanCount++;
    this._vlanFromMeta = 1;
    this.rare |= RARE_VLAN;
    this._present |= 1 << Layer.VLAN;
  }

  private otherLink(data: Uint8Array, offset: number, end: number, linkType: number): void {
    switch (linkType) {
      case LinkType.LinuxSLL:
        if (offset + SLL_HEADER_LEN > end) return this.fail(Layer.LinuxSLL, DecodeError.Truncated);
        this._present = 1 << Layer.LinuxSLL;
        this._l2Offset = offset;
        return this.vlans(offset + SLL_HEADER_LEN, sllProtocol(data, offset));
      case LinkType.LinuxSLL2:
        if (offset + SLL2_HEADER_LEN > end) return this.fail(Layer.LinuxSLL2, DecodeError.Truncated);
        this._present = 1 << Layer.LinuxSLL2;
        this._l2Offset = offset;
        return this.vlans(offset + SLL2_HEADER_LEN, sll2Protocol(data, offset));
      case LinkType.Raw:
        if (offset >= end) return this.fail(Layer.Link, DecodeError.Truncated);
        switch (data[offset]! >> 4) {
          case 4:
            return this.network(offset, EtherType.IPv4);
          case 6:
            return this.network(offset, EtherType.IPv6);
          default:
            return this.fail(Layer.Link, DecodeError.BadVersion);
        }
      case LinkType.IPv4:
        return this.network(offset, EtherType.IPv4);
      case LinkType.Null:
      case LinkType.Loop: {
        if (offset + NULL_HEADER_LEN > end) return this.fail(Layer.Link, DecodeError.Truncated);
        this._l2Offset = offset;
        this._l2Length = NULL_HEADER_LEN;
        const fam = nullFamily(data, offset);
        if (fam === 2) return this.network(offset + NULL_HEADER_LEN, EtherType.IPv4);
        if (fam === 10 || fam === 24 || fam === 28 || fam === 30) return this.network(offset + NULL_HEADER_LEN, EtherType.IPv6);
        // Unknown family: the network stage records the offset and the payload.
        this.nx = offset + NULL_HEADER_LEN;
        this.nt = 0;
        return;
      }
      case LinkType.IPv6:
        return this.network(offset, EtherType.IPv6);
      default:
        return this.fail(Layer.Link, DecodeError.UnsupportedLinkType);
    }
  }

  /** The network layer starts at `p` with EtherType `et` (raw IP and loopback link types). */
  private network(p: number, et: number): void {
    this._etherType = et;
    this.nx = p;
    this.nt = et;
  }

  private vlans(p: number, et: number): void {
    const d = this.data;
    const end = this.end;
    while (isVlanTpid(et)) {
      if (p + VLAN_TAG_LEN > end) {
        this._etherType = 0;
        this._l2Length = p - this.start;
        this._payloadOffset = p;
        this._payloadLength = end - p;
        return this.fail(Layer.VLAN, DecodeError.Truncated);
      }
      const n = this._vlanCount;
      if (n === 0) {
        this._vlan0Tpid = et;
        this._vlan0Tci = u16(d, p + VlanField.Tci);
      } else if (n === 1) {
        this._vlan1Tpid = et;
        this._vlan1Tci = u16(d, p + VlanField.Tci);
      }
      this._vlanCount = n + 1;
      this.rare |= RARE_VLAN;
      this._present |= 1 << Layer.VLAN;
      et = u16(d, p + VlanField.InnerType);
      p += VLAN_TAG_LEN;
    }
    this._etherType = et;
    this._l2Length = p - this.start;
    this.nx = p;
    this.nt = et;
  }



  /** Network-layer fields of a packet without a (decodable) IP header whose network layer starts at `p` (-1: none). */
  private netClear(p: number): void {
    this._l3Offset = p;
    this._l3Length = 0;
    this._ipEnd = -1;
    this._ipProto = 0;
    this._ipVersion = 0;
    this._srcAddrOffset = -1;
    this._dstAddrOffset = -1;
    this._addrLength = 0;
  }

  /** Stage 2 for everything but IPv4. */
  private netOther(p: number, et: number): void {
    this.netClear(p);
    if (et === EtherType.IPv6) return this.ipv6(p);
    this._payloadOffset = p;
    this._payloadLength = this.end - p;
    this.stop = 1;
    if (et === EtherType.ARP) this.arp(p);
  }

  private arp(p: number): void {
    const d = this.data;
    if (p + ARP_FIXED_LEN > this.end) return this.fail(Layer.ARP, DecodeError.Truncated);
    const hlen = d[p + ArpField.Hlen]!;
    const plen = d[p + ArpField.Plen]!;
    const n = ARP_FIXED_LEN + 2 * (hlen + plen);
    if (p + n > this.end) return this.fail(Layer.ARP, DecodeError.Truncated);
    this._present |= 1 << Layer.ARP;
    this._srcAddrOffset = p + ArpField.Addresses + hlen;
    this._dstAddrOffset = p + ArpField.Addresses + 2 * hlen + plen;
    this._addrLength = plen;
    this._payloadOffset = p + n;
    this._payloadLength = this.end - (p + n);
  }



  /** An IPv4 header at `p` that cannot be decoded at all. */
  private ipv4Bad(p: number, code: number): void {
    this.netClear(p);
    this.ipv4Fail(p, code);
  }

  /** An IPv4 header at `p` that cannot be decoded: the payload is the whole network layer. */
  private ipv4Fail(p: number, code: number): void {
    this._payloadOffset = p;
    this._payloadLength = this.end - p;
    this.fail(Layer.IPv4, code);
  }

  /**
   * End of an IPv4 datagram whose total length is 0 (TSO/BIG TCP: unknown),
   * shorter than its header (-1: error recorded) or past the captured end.
   */
  private ipv4End(p: number, total: number, hl: number): number {
    if (total === 0) {
      // TSO / BIG TCP super-packets carry no usable total length.
      this.cut = 1;
      return this.end;
    }
    if (total < hl) {
      this.ipv4Bad(p, DecodeError.BadLength);
      return -1;
    }
    this._truncated = 1;
    this.rare |= RARE_MISC;
    this.cut = 1;
    return this.end;
  }

  private ipv4Fragment(p: number, fw: number): void {
    this._isFragment = 1;
    this.rare |= RARE_FRAG;
    this._fragOffset = (fw & Ipv4Frag.OffsetMask) << 3;
    this._fragMore = (fw >> 13) & 1;
    this._fragId = u16(this.data, p + Ipv4Field.Id);
  }

  private ipv6(p: number): void {
    const d = this.data;
    const end = this.end;
    this._l3Offset = p;
    this._payloadOffset = p;
    this._payloadLength = end - p;
    if (p + IPV6_HEADER_LEN > end) return this.fail(Layer.IPv6, DecodeError.Truncated);
    if (d[p]! >> 4 !== 6) return this.fail(Layer.IPv6, DecodeError.BadVersion);
    const plen = u16(d, p + Ipv6Field.PayloadLength);
    let ipEnd: number;
    if (plen === 0) {
      // Jumbogram (RFC 2675) or a TSO super-packet: length unknown here.
      ipEnd = end;
      this.cut = 1;
    } else {
      ipEnd = p + IPV6_HEADER_LEN + plen;
      if (ipEnd > end) {
        ipEnd = end;
        this._truncated = 1;
        this.rare |= RARE_MISC;
        this.cut = 1;
      }
    }
    this._present |= 1 << Layer.IPv6;
    this._ipVersion = 6;
    this._srcAddrOffset = p + Ipv6Field.Src;
    this._dstAddrOffset = p + Ipv6Field.Dst;
    this._addrLength = 16;
    this._ipEnd = ipEnd;
    let nh = d[p + Ipv6Field.NextHeader]!;
    let q = p + IPV6_HEADER_LEN;
    let n = 0;
    while (isIpv6ExtensionHeader(nh)) {
      this._ipProto = nh;
      this._l3Length = q - p;
      this._payloadOffset = q;
      this._payloadLength = ipEnd - q;
      if (q + 2 > ipEnd) return this.fail(Layer.IPv6Ext, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
      const len = ipv6ExtHeaderLength(d, nh, q);
      if (q + len > ipEnd) return this.fail(Layer.IPv6Ext, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
      if (nh === IpProto.Fragment) {
        const fw = u16(d, q + Ipv6ExtField.FragOffset);
        this._isFragment = 1;
        this.rare |= RARE_FRAG;
        this._fragOffset = fw & 0xfff8;
        this._fragMore = fw & 1;
        this._fragId = u32(d, q + Ipv6ExtField.FragId);
      }
      this._present |= 1 << Layer.IPv6Ext;
      n++;
      nh = d[q + Ipv6ExtField.NextHeader]!;
      q += len;
    }
    if (n !== 0) {
      this._ipv6ExtCount = n;
      this.rare |= RARE_MISC;
    }
    this._ipProto = nh;
    this._l3Length = q - p;
    this._payloadOffset = q;
    this._payloadLength = ipEnd - q;
    if (this._fragOffset !== 0) {
      this.stop = 1;
      return;
    }
    this.nx = q;
    this.nt = nh;
  }



  /** Transport fields before (or without) a decoded transport header at `q` (-1: none). */
  private l4Clear(q: number): void {
    this._l4Offset = q;
    this._l4Length = 0;
    this._srcPort = 0;
    this._dstPort = 0;
    this._tcpFlags = 0;
  }

  /** The transport header at `q` cannot be decoded: the payload stays the IP payload. */
  private l4Fail(layer: number, q: number, code: number): void {
    this._payloadOffset = q;
    this._payloadLength = this._ipEnd - q;
    this.fail(layer, code);
  }

  /** `layer` at `q` does not fit in what is left of the IP datagram: truncated by caplen, or a bad length. */
  private l4Short(layer: number, q: number): void {
    this.l4Clear(q);
    this.l4Fail(layer, q, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
  }





  /** End of a UDP datagram whose length is 0 (unknown), too small (-1: error recorded) or past the IP end. */
  private udpEnd(q: number, ulen: number, ipEnd: number): number {
    if (ulen === 0) return ipEnd;
    if (ulen < UDP_HEADER_LEN) {
      this.l4Fail(Layer.UDP, q, DecodeError.BadLength);
      return -1;
    }
    // A first fragment carries the length of the whole datagram.
    if (this.cut === 0 && this._isFragment === 0) {
      this.l4Fail(Layer.UDP, q, DecodeError.BadLength);
      return -1;
    }
    if (this.cut === 1) {
      this._truncated = 1;
      this.rare |= RARE_MISC;
    }
    return ipEnd;
  }

  private otherL4(q: number, proto: number, ipEnd: number): void {
    const d = this.data;
    switch (proto) {
      case IpProto.ICMP:
      case IpProto.ICMPv6: {
        const layer = proto === IpProto.ICMP ? Layer.ICMP : Layer.ICMPv6;
        if (q + ICMP_HEADER_LEN > ipEnd) {
          this._payloadOffset = q;
          this._payloadLength = ipEnd - q;
          return this.fail(layer, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
        }
        this._present |= 1 << layer;
        this._l4Length = ICMP_HEADER_LEN;
        this._payloadOffset = q + ICMP_HEADER_LEN;
        this._payloadLength = ipEnd - (q + ICMP_HEADER_LEN);
        return;
      }
      case IpProto.GRE:
        return this.gre(q, ipEnd);
      case IpProto.IPIP:
      case IpProto.IPv6:
        this._tunnel = Tunnel.IPIP;
        this.rare |= RARE_TUNNEL;
        this._tunnelOffset = q;
        this._innerOffset = q;
        this._innerLinkType = proto === IpProto.IPIP ? LinkType.IPv4 : LinkType.IPv6;
        return;
      default:
        return;
    }
  }

  private gre(q: number, ipEnd: number): void {
    const d = this.data;
    if (q + GRE_BASE_LEN > ipEnd) return this.fail(Layer.GRE, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
    const hl = greHeaderLength(d, q);
    if (hl < 0) return this.fail(Layer.GRE, DecodeError.Unsupported);
    if (q + hl > ipEnd) return this.fail(Layer.GRE, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
    const proto = u16(d, q + GreField.Protocol);
    this._present |= 1 << Layer.GRE;
    this._l4Length = hl;
    this._tunnel = Tunnel.GRE;
    this.rare |= RARE_TUNNEL;
    this._tunnelOffset = q;
    this._tunnelProto = proto;
    this._tunnelKey = greKey(d, q);
    this._innerOffset = q + hl;
    this._innerLinkType = proto === EtherType.TEB ? LinkType.Ethernet : proto === EtherType.IPv4 ? LinkType.IPv4 : proto === EtherType.IPv6 ? LinkType.IPv6 : 0;
    this._payloadOffset = q + hl;
    this._payloadLength = ipEnd - (q + hl);
  }

  private vxlan(v: number, uend: number): void {
    const d = this.data;
    if (v + VXLAN_HEADER_LEN > uend) {
      // Cut short by caplen on the VXLAN port: report it (flags may be unreadable).
      if (this.cut === 1 && (v >= uend || (d[v + VxlanField.Flags]! & VXLAN_FLAG_VNI) !== 0)) this.fail(Layer.VXLAN, DecodeError.Truncated);
      return;
    }
    if ((d[v + VxlanField.Flags]! & VXLAN_FLAG_VNI) === 0) return;
    this._present |= 1 << Layer.VXLAN;
    this._tunnel = Tunnel.VXLAN;
    this.rare |= RARE_TUNNEL;
    this._tunnelOffset = v;
    this._tunnelKey = vxlanVni(d, v);
    this._innerOffset = v + VXLAN_HEADER_LEN;
    this._innerLinkType = LinkType.Ethernet;
  }
}
