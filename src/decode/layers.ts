/**
 * The reusable layered decoder. One `Layers` object is filled in place for
 * each packet: plain number fields, no allocation, no exceptions, and no
 * read outside `[offset, offset + caplen)`.
 */
import { u16, u32 } from './bytes.js';
import { DecodeError, Layer, Tunnel, errorName, layerName } from './codes.js';
import { greHeaderLength } from './gre.js';
import { isIpv6ExtensionHeader, ipv6ExtHeaderLength } from './ipv6.js';
import { LinkType, nullFamily } from './linktype.js';
import type { PacketLike } from '../packet-like.js';

const EMPTY = new Uint8Array(0);
const LINKTYPE_ETHERNET = 1;
const RARE_VLAN = 1;
const RARE_FRAG = 2;
const RARE_TUNNEL = 4;
const RARE_MISC = 8;

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
  /** Bit set of decoded layers: bit `1 << Layer.X`. */
  present = 0;
  /** {@link Layer} that could not be decoded (0 when `error` is 0). */
  errorLayer = 0;
  /** {@link DecodeError} code (0 = ok). */
  error = 0;

  /** Offset of the link-layer header (-1 for raw IP). */
  l2Offset = -1;
  /** Bytes of link-layer header including in-frame VLAN tags. */
  l2Length = 0;
  /** EtherType after all VLAN tags (also for SLL/SLL2; 0x0800/0x86dd for raw IP). */
  etherType = 0;
  /** Number of VLAN tags: in the frame, plus one when the outer tag came from metadata. */
  vlanCount = 0;
  /** 1 when the outermost tag (`vlan0*`) came from packet metadata (stripped by the device). */
  vlanFromMeta = 0;
  /** TPID of the outermost tag (0x8100, 0x88a8, 0x9100). */
  vlan0Tpid = 0;
  /** TCI of the outermost tag (VID = `tci & 0xfff`). */
  vlan0Tci = 0;
  /** TPID of the second tag (QinQ inner tag). */
  vlan1Tpid = 0;
  /** TCI of the second tag. */
  vlan1Tci = 0;

  /** Offset of the network header (IP or ARP or unknown EtherType payload), -1 if none. */
  l3Offset = -1;
  /** 4, 6 or 0. */
  ipVersion = 0;
  /** IP header bytes: IHL*4, or 40 + extension headers for IPv6. */
  l3Length = 0;
  /** One past the IP datagram's last captured byte (min of claimed length and captured end). */
  ipEnd = -1;
  /** Offset of the source address (4 or 16 bytes; ARP: sender protocol address), -1 if none. */
  srcAddrOffset = -1;
  /** Offset of the destination address, -1 if none. */
  dstAddrOffset = -1;
  /** Address length: 4, 16 or 0. */
  addrLength = 0;
  /** Upper-layer protocol: IPv4 protocol, or the Next Header after IPv6 extension headers. */
  ipProto = 0;
  /** Number of IPv6 extension headers walked. */
  ipv6ExtCount = 0;
  /** 1 when the IP packet is a fragment (MF set or offset non-zero). */
  isFragment = 0;
  /** Fragment offset in bytes. */
  fragOffset = 0;
  /** 1 when more fragments follow. */
  fragMore = 0;
  /** Fragment identification (IPv4 16-bit id or IPv6 32-bit id). */
  fragId = 0;
  /** 1 when the captured bytes are fewer than the IP (or UDP) length claims. */
  truncated = 0;
  /** ARP operation (1 request, 2 reply). */
  arpOp = 0;

  /** Offset of the transport header (or of the upper-layer header after IP), -1 if none. */
  l4Offset = -1;
  /** Transport header bytes (TCP data offset * 4, 8 for UDP/ICMP, GRE header length). */
  l4Length = 0;
  /** TCP/UDP source port. */
  srcPort = 0;
  /** TCP/UDP destination port. */
  dstPort = 0;
  /** TCP flags (byte 13, NS as 0x100). */
  tcpFlags = 0;
  /** ICMP/ICMPv6 type. */
  icmpType = 0;
  /** ICMP/ICMPv6 code. */
  icmpCode = 0;

  /** Offset of the payload (see the class doc), -1 if none. */
  payloadOffset = -1;
  /** Captured payload bytes. */
  payloadLength = 0;

  /** {@link Tunnel} kind (GRE, VXLAN, IP-in-IP) or 0. */
  tunnel = 0;
  /** Offset of the tunnel header (GRE/VXLAN; the inner IP for IP-in-IP), -1 if none. */
  tunnelOffset = -1;
  /** GRE key or VXLAN VNI, -1 when absent. */
  tunnelKey = -1;
  /** GRE protocol type (EtherType of the inner packet). */
  tunnelProto = 0;
  /** Offset of the encapsulated packet, -1 if none. */
  innerOffset = -1;
  /** Link type to decode the inner packet with (1 Ethernet, 228 IPv4, 229 IPv6), 0 unknown. */
  innerLinkType = 0;

  /** UDP destination port that is decoded as VXLAN (default 4789; 0 disables). */
  vxlanPort = 4789;

  /** 1 when lengths were unknown or cut by caplen (errors then read "truncated"). */
  private cut = 0;
  /** RARE_* groups of fields set by the last decode (reset lazily). */
  private rare = 0;

  /** True when layer `id` (a {@link Layer}) was decoded. */
  has(id: number): boolean {
    return (this.present & (1 << id)) !== 0;
  }

  /** "ipv4: bad header length", or "" when decoding succeeded. Not for hot paths. */
  errorText(): string {
    return this.error === 0 ? '' : `${layerName(this.errorLayer)}: ${errorName(this.error)}`;
  }

  /**
   * Decode the packet at `data[offset .. offset + caplen)` of link type
   * `linkType` (LINKTYPE_*). Returns the {@link DecodeError} code (0 = ok).
   * Never throws; never reads outside the range (nor past `data.length`).
   */
  decode(data: Uint8Array, offset: number, caplen: number, linkType = 1): number {
    this.data = data;
    this.linkType = linkType;
    this.present = 0;
    this.errorLayer = 0;
    this.error = 0;
    this.l2Offset = -1;
    this.l2Length = 0;
    this.etherType = 0;
    this.l3Offset = -1;
    this.ipVersion = 0;
    this.l3Length = 0;
    this.ipEnd = -1;
    this.srcAddrOffset = -1;
    this.dstAddrOffset = -1;
    this.addrLength = 0;
    this.ipProto = 0;
    this.l4Offset = -1;
    this.l4Length = 0;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.payloadOffset = -1;
    this.payloadLength = 0;
    // Fields of rarer layers are reset only when the previous packet set them.
    if (this.rare !== 0) this.resetRare();
    this.cut = 0;

    if (offset >>> 0 !== offset || caplen >>> 0 !== caplen) {
      this.start = 0;
      this.end = 0;
      return this.fail(Layer.Link, DecodeError.BadOffset);
    }
    let end = offset + caplen;
    if (end > data.length) end = data.length;
    if (offset > end) end = offset;
    this.start = offset;
    this.end = end;
    this.payloadOffset = offset;
    this.payloadLength = end - offset;

    if (linkType === LINKTYPE_ETHERNET) {
      if (offset + 14 > end) return this.fail(Layer.Ethernet, DecodeError.Truncated);
      this.present = 1 << Layer.Ethernet;
      this.l2Offset = offset;
      return this.vlans(offset + 14, u16(data, offset + 12));
    }
    return this.otherLink(data, offset, end, linkType);
  }

  /**
   * Decode a {@link PacketLike}. When the device stripped a VLAN tag into
   * metadata (`vlanValid`), it is reported as the outermost tag (`vlan0*`,
   * `vlanFromMeta = 1`) and in-frame tags move one place inwards.
   */
  decodePacket(p: PacketLike): number {
    const rc = this.decode(p.data, p.offset, p.caplen, p.linkType);
    if (p.vlanValid) {
      this.vlan1Tpid = this.vlan0Tpid;
      this.vlan1Tci = this.vlan0Tci;
      this.vlan0Tpid = p.vlanTpid !== 0 ? p.vlanTpid : 0x8100;
      this.vlan0Tci = p.vlanTci;
      this.vlanCount++;
      this.vlanFromMeta = 1;
      this.rare |= RARE_VLAN;
      this.present |= 1 << Layer.VLAN;
    }
    return rc;
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
      this.vlanCount = 0;
      this.vlanFromMeta = 0;
      this.vlan0Tpid = 0;
      this.vlan0Tci = 0;
      this.vlan1Tpid = 0;
      this.vlan1Tci = 0;
    }
    if ((rare & RARE_FRAG) !== 0) {
      this.isFragment = 0;
      this.fragOffset = 0;
      this.fragMore = 0;
      this.fragId = 0;
    }
    if ((rare & RARE_TUNNEL) !== 0) {
      this.tunnel = 0;
      this.tunnelOffset = -1;
      this.tunnelKey = -1;
      this.tunnelProto = 0;
      this.innerOffset = -1;
      this.innerLinkType = 0;
    }
    if ((rare & RARE_MISC) !== 0) {
      this.arpOp = 0;
      this.icmpType = 0;
      this.icmpCode = 0;
      this.ipv6ExtCount = 0;
      this.truncated = 0;
    }
    this.rare = 0;
  }

  private otherLink(data: Uint8Array, offset: number, end: number, linkType: number): number {
    switch (linkType) {
      case LinkType.LinuxSLL:
        if (offset + 16 > end) return this.fail(Layer.LinuxSLL, DecodeError.Truncated);
        this.present = 1 << Layer.LinuxSLL;
        this.l2Offset = offset;
        return this.vlans(offset + 16, u16(data, offset + 14));
      case LinkType.LinuxSLL2:
        if (offset + 20 > end) return this.fail(Layer.LinuxSLL2, DecodeError.Truncated);
        this.present = 1 << Layer.LinuxSLL2;
        this.l2Offset = offset;
        return this.vlans(offset + 20, u16(data, offset));
      case LinkType.Raw:
        if (offset >= end) return this.fail(Layer.Link, DecodeError.Truncated);
        switch (data[offset]! >> 4) {
          case 4:
            this.etherType = 0x0800;
            return this.ipv4(offset);
          case 6:
            this.etherType = 0x86dd;
            return this.ipv6(offset);
          default:
            return this.fail(Layer.Link, DecodeError.BadVersion);
        }
      case LinkType.IPv4:
        this.etherType = 0x0800;
        return this.ipv4(offset);
      case LinkType.Null:
      case LinkType.Loop: {
        if (offset + 4 > end) return this.fail(Layer.Link, DecodeError.Truncated);
        this.l2Offset = offset;
        this.l2Length = 4;
        const fam = nullFamily(data, offset);
        if (fam === 2) {
          this.etherType = 0x0800;
          return this.ipv4(offset + 4);
        }
        if (fam === 10 || fam === 24 || fam === 28 || fam === 30) {
          this.etherType = 0x86dd;
          return this.ipv6(offset + 4);
        }
        this.l3Offset = offset + 4;
        this.payloadOffset = offset + 4;
        this.payloadLength = end - (offset + 4);
        return 0;
      }
      case LinkType.IPv6:
        this.etherType = 0x86dd;
        return this.ipv6(offset);
      default:
        return this.fail(Layer.Link, DecodeError.UnsupportedLinkType);
    }
  }

  private fail(layer: number, code: number): number {
    this.errorLayer = layer;
    this.error = code;
    return code;
  }

  private vlans(p: number, et: number): number {
    const d = this.data;
    const end = this.end;
    while (et === 0x8100 || et === 0x88a8 || et === 0x9100) {
      if (p + 4 > end) {
        this.l2Length = p - this.start;
        this.payloadOffset = p;
        this.payloadLength = end - p;
        return this.fail(Layer.VLAN, DecodeError.Truncated);
      }
      const n = this.vlanCount;
      if (n === 0) {
        this.vlan0Tpid = et;
        this.vlan0Tci = u16(d, p);
      } else if (n === 1) {
        this.vlan1Tpid = et;
        this.vlan1Tci = u16(d, p);
      }
      this.vlanCount = n + 1;
      this.rare |= RARE_VLAN;
      this.present |= 1 << Layer.VLAN;
      et = u16(d, p + 2);
      p += 4;
    }
    this.etherType = et;
    this.l2Length = p - this.start;
    if (et === 0x0800) return this.ipv4(p);
    if (et === 0x86dd) return this.ipv6(p);
    this.l3Offset = p;
    this.payloadOffset = p;
    this.payloadLength = end - p;
    if (et === 0x0806) return this.arp(p);
    return 0;
  }

  private arp(p: number): number {
    const d = this.data;
    if (p + 8 > this.end) return this.fail(Layer.ARP, DecodeError.Truncated);
    const hlen = d[p + 4]!;
    const plen = d[p + 5]!;
    const n = 8 + 2 * (hlen + plen);
    if (p + n > this.end) return this.fail(Layer.ARP, DecodeError.Truncated);
    this.present |= 1 << Layer.ARP;
    this.arpOp = u16(d, p + 6);
    this.rare |= RARE_MISC;
    this.srcAddrOffset = p + 8 + hlen;
    this.dstAddrOffset = p + 8 + 2 * hlen + plen;
    this.addrLength = plen;
    this.payloadOffset = p + n;
    this.payloadLength = this.end - (p + n);
    return 0;
  }

  private ipv4(p: number): number {
    const d = this.data;
    const end = this.end;
    this.l3Offset = p;
    this.payloadOffset = p;
    this.payloadLength = end - p;
    if (p + 20 > end) return this.fail(Layer.IPv4, DecodeError.Truncated);
    const b0 = d[p]!;
    if (b0 >> 4 !== 4) return this.fail(Layer.IPv4, DecodeError.BadVersion);
    const hl = (b0 & 0x0f) << 2;
    if (hl < 20) return this.fail(Layer.IPv4, DecodeError.BadHeaderLength);
    const total = u16(d, p + 2);
    let ipEnd: number;
    if (total === 0) {
      // TSO / BIG TCP super-packets carry no usable total length.
      ipEnd = end;
      this.cut = 1;
    } else {
      if (total < hl) return this.fail(Layer.IPv4, DecodeError.BadLength);
      ipEnd = p + total;
      if (ipEnd > end) {
        ipEnd = end;
        this.truncated = 1;
        this.rare |= RARE_MISC;
        this.cut = 1;
      }
    }
    this.present |= 1 << Layer.IPv4;
    this.ipVersion = 4;
    this.srcAddrOffset = p + 12;
    this.dstAddrOffset = p + 16;
    this.addrLength = 4;
    this.l3Length = hl;
    this.ipEnd = ipEnd;
    const proto = d[p + 9]!;
    this.ipProto = proto;
    const fw = u16(d, p + 6);
    const fo = (fw & 0x1fff) << 3;
    if ((fw & 0x3fff) !== 0) {
      this.isFragment = 1;
      this.rare |= RARE_FRAG;
      this.fragOffset = fo;
      this.fragMore = (fw >> 13) & 1;
      this.fragId = u16(d, p + 4);
    }
    if (p + hl > ipEnd) return this.fail(Layer.IPv4, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
    this.payloadOffset = p + hl;
    this.payloadLength = ipEnd - (p + hl);
    if (fo !== 0) return 0;
    return this.l4(p + hl, proto, ipEnd);
  }

  private ipv6(p: number): number {
    const d = this.data;
    const end = this.end;
    this.l3Offset = p;
    this.payloadOffset = p;
    this.payloadLength = end - p;
    if (p + 40 > end) return this.fail(Layer.IPv6, DecodeError.Truncated);
    if (d[p]! >> 4 !== 6) return this.fail(Layer.IPv6, DecodeError.BadVersion);
    const plen = u16(d, p + 4);
    let ipEnd: number;
    if (plen === 0) {
      // Jumbogram (RFC 2675) or a TSO super-packet: length unknown here.
      ipEnd = end;
      this.cut = 1;
    } else {
      ipEnd = p + 40 + plen;
      if (ipEnd > end) {
        ipEnd = end;
        this.truncated = 1;
        this.rare |= RARE_MISC;
        this.cut = 1;
      }
    }
    this.present |= 1 << Layer.IPv6;
    this.ipVersion = 6;
    this.srcAddrOffset = p + 8;
    this.dstAddrOffset = p + 24;
    this.addrLength = 16;
    this.ipEnd = ipEnd;
    let nh = d[p + 6]!;
    let q = p + 40;
    let n = 0;
    while (isIpv6ExtensionHeader(nh)) {
      this.ipProto = nh;
      this.l3Length = q - p;
      this.payloadOffset = q;
      this.payloadLength = ipEnd - q;
      if (q + 2 > ipEnd) return this.fail(Layer.IPv6Ext, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
      const len = ipv6ExtHeaderLength(d, nh, q);
      if (q + len > ipEnd) return this.fail(Layer.IPv6Ext, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
      if (nh === 44) {
        const fw = u16(d, q + 2);
        this.isFragment = 1;
        this.rare |= RARE_FRAG;
        this.fragOffset = fw & 0xfff8;
        this.fragMore = fw & 1;
        this.fragId = u32(d, q + 4);
      }
      this.present |= 1 << Layer.IPv6Ext;
      n++;
      nh = d[q]!;
      q += len;
    }
    if (n !== 0) {
      this.ipv6ExtCount = n;
      this.rare |= RARE_MISC;
    }
    this.ipProto = nh;
    this.l3Length = q - p;
    this.payloadOffset = q;
    this.payloadLength = ipEnd - q;
    if (this.fragOffset !== 0) return 0;
    return this.l4(q, nh, ipEnd);
  }

  private l4(q: number, proto: number, ipEnd: number): number {
    this.l4Offset = q;
    if (proto === 17) return this.udp(q, ipEnd);
    if (proto === 6) return this.tcp(q, ipEnd);
    return this.otherL4(q, proto, ipEnd);
  }

  private tcp(q: number, ipEnd: number): number {
    const d = this.data;
    if (q + 20 > ipEnd) return this.fail(Layer.TCP, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
    this.present |= 1 << Layer.TCP;
    this.srcPort = u16(d, q);
    this.dstPort = u16(d, q + 2);
    const b12 = d[q + 12]!;
    this.tcpFlags = ((b12 & 1) << 8) | d[q + 13]!;
    const hl = (b12 >> 4) << 2;
    if (hl < 20) return this.fail(Layer.TCP, DecodeError.BadHeaderLength);
    if (q + hl > ipEnd) return this.fail(Layer.TCP, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
    this.l4Length = hl;
    this.payloadOffset = q + hl;
    this.payloadLength = ipEnd - (q + hl);
    return 0;
  }

  private udp(q: number, ipEnd: number): number {
    const d = this.data;
    if (q + 8 > ipEnd) return this.fail(Layer.UDP, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
    this.present |= 1 << Layer.UDP;
    const sp = u16(d, q);
    const dp = u16(d, q + 2);
    this.srcPort = sp;
    this.dstPort = dp;
    this.l4Length = 8;
    const ulen = u16(d, q + 4);
    let uend = ipEnd;
    if (ulen !== 0) {
      if (ulen < 8) return this.fail(Layer.UDP, DecodeError.BadLength);
      uend = q + ulen;
      if (uend > ipEnd) {
        // A first fragment carries the length of the whole datagram.
        if (this.cut === 0 && this.isFragment === 0) return this.fail(Layer.UDP, DecodeError.BadLength);
        uend = ipEnd;
        if (this.cut === 1) {
          this.truncated = 1;
          this.rare |= RARE_MISC;
        }
      }
    }
    this.payloadOffset = q + 8;
    this.payloadLength = uend - (q + 8);
    if (dp === this.vxlanPort && dp !== 0) return this.vxlan(q + 8, uend);
    return 0;
  }

  private otherL4(q: number, proto: number, ipEnd: number): number {
    const d = this.data;
    switch (proto) {
      case 1:
      case 58: {
        const layer = proto === 1 ? Layer.ICMP : Layer.ICMPv6;
        if (q + 8 > ipEnd) {
          this.payloadOffset = q;
          this.payloadLength = ipEnd - q;
          return this.fail(layer, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
        }
        this.present |= 1 << layer;
        this.icmpType = d[q]!;
        this.icmpCode = d[q + 1]!;
        this.rare |= RARE_MISC;
        this.l4Length = 8;
        this.payloadOffset = q + 8;
        this.payloadLength = ipEnd - (q + 8);
        return 0;
      }
      case 47:
        return this.gre(q, ipEnd);
      case 4:
      case 41:
        this.tunnel = Tunnel.IPIP;
        this.rare |= RARE_TUNNEL;
        this.tunnelOffset = q;
        this.innerOffset = q;
        this.innerLinkType = proto === 4 ? LinkType.IPv4 : LinkType.IPv6;
        return 0;
      default:
        return 0;
    }
  }

  private gre(q: number, ipEnd: number): number {
    const d = this.data;
    if (q + 4 > ipEnd) return this.fail(Layer.GRE, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
    const hl = greHeaderLength(d, q);
    if (hl < 0) return this.fail(Layer.GRE, DecodeError.Unsupported);
    if (q + hl > ipEnd) return this.fail(Layer.GRE, this.cut === 1 ? DecodeError.Truncated : DecodeError.BadLength);
    const f = u16(d, q);
    const proto = u16(d, q + 2);
    this.present |= 1 << Layer.GRE;
    this.l4Length = hl;
    this.tunnel = Tunnel.GRE;
    this.rare |= RARE_TUNNEL;
    this.tunnelOffset = q;
    this.tunnelProto = proto;
    if ((f & 0x2000) !== 0) this.tunnelKey = u32(d, q + ((f & 0x8000) !== 0 ? 8 : 4));
    this.innerOffset = q + hl;
    this.innerLinkType = proto === 0x6558 ? LinkType.Ethernet : proto === 0x0800 ? LinkType.IPv4 : proto === 0x86dd ? LinkType.IPv6 : 0;
    this.payloadOffset = q + hl;
    this.payloadLength = ipEnd - (q + hl);
    return 0;
  }

  private vxlan(v: number, uend: number): number {
    const d = this.data;
    if (v + 8 > uend) {
      // Cut short by caplen on the VXLAN port: report it (flags may be unreadable).
      if (this.cut === 1 && (v >= uend || (d[v]! & 0x08) !== 0)) return this.fail(Layer.VXLAN, DecodeError.Truncated);
      return 0;
    }
    if ((d[v]! & 0x08) === 0) return 0;
    this.present |= 1 << Layer.VXLAN;
    this.tunnel = Tunnel.VXLAN;
    this.rare |= RARE_TUNNEL;
    this.tunnelOffset = v;
    this.tunnelKey = (d[v + 4]! << 16) | (d[v + 5]! << 8) | d[v + 6]!;
    this.innerOffset = v + 8;
    this.innerLinkType = LinkType.Ethernet;
    return 0;
  }
}
