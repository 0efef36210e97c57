/**
 * Semantics of pcap-filter expressions: syntax tree -> IR predicate, with
 * libpcap's (gencode.c, 1.10) meaning for Ethernet (DLT_EN10MB), quirks
 * included:
 *
 * - `vlan` and `mpls` shift every later offset of the expression, in text
 *   order, whatever the boolean structure (`vlan or ip` tests ip inside the
 *   tag);
 * - `port` means tcp, udp or sctp over IPv4 (not a non-first fragment) or
 *   over IPv6 without extension headers;
 * - `tcp`/`udp`/... over IPv6 also accept one fragment header;
 * - accessors `tcp[..]`, `udp[..]`, ... only look at IPv4;
 * - a bare identifier after `and`/`or` reuses the previous qualifiers.
 *
 * Two targets: 'file' (VLAN tags inline in the bytes, like `tcpdump -r`)
 * and 'kernel' (a Linux packet socket: the outer tag was moved to metadata,
 * read through SKF_AD_VLAN_TAG_PRESENT / SKF_AD_VLAN_TAG, so offsets after
 * the first `vlan` depend on where the tag is).
 *
 * Host and network names are refused: resolving them needs DNS or
 * /etc/networks, which a capture probe may not have.
 */
import { LangError } from '../errors.js';
import { and, FALSE, keeping, not, or, test, type Pred } from '../ir/pred.js';
import { ANC, type AluOp, type Val, Values } from '../ir/value.js';
import type { ArithOp, Arth, DirQ, Expr, IdVal, ProtoQ, Qual, Span } from './ast.js';
import { etherProtoByName, ETHERTYPE, IPPROTO, ipProtoByName, LLCSAP, portByName } from './names.js';
import { parseIPv6 } from './lexer.js';
import { ETH_BROADCAST, EthAddrBit, EthField, ETH_HEADER_LEN } from '../../decode/ethernet.js';
import { IPV4_MULTICAST_FIRST_BYTE, IpVersionByte, Ipv4Field, Ipv4Frag } from '../../decode/ipv4.js';
import { Ipv6ExtField, Ipv6Field, IPV6_HEADER_LEN, IPV6_MULTICAST_FIRST_BYTE } from '../../decode/ipv6.js';
import { ArpField } from '../../decode/arp.js';
import { UdpField, UDP_HEADER_LEN } from '../../decode/udp.js';
import { VLAN_TAG_LEN, VlanField, VlanTci } from '../../decode/vlan.js';
import { ETH_8023_MAX_LENGTH, LLC_HEADER_LEN, LlcControl, LlcField, LlcSCommand, LlcUCommand, NOVELL_RAW_8023, snapHeader, SnapOui } from '../../decode/llc.js';
import { MPLS_LABEL_LEN, MPLS_MAX_LABEL, MplsByte, MplsEntry } from '../../decode/mpls.js';
import { PPP_PROTOCOL_LEN, PPPOE_HEADER_LEN, PPPOE_MAX_SESSION, PppoeField, PppProto, pppProtoOf } from '../../decode/pppoe.js';
import { DecnetAddr, decnetAddress, DecnetField, DecnetFlags, decnetWireHalfword } from '../../decode/decnet.js';
import { ISIS_PDU_CLASSES, IsisField, Nlpid } from '../../decode/isis.js';
import { GeneveField, GENEVE_HEADER_LEN, GENEVE_OPTLEN_MASK, GENEVE_PORT, GENEVE_VERSION_MASK } from '../../decode/geneve.js';

/** Where the compiled filter runs; it decides how VLAN tags are seen. */
export type FilterTarget = 'file' | 'kernel';

export interface PcapGenOptions {
  target: FilterTarget;
  /** IPv4 netmask for `ip broadcast`: 0 by default, as `tcpdump -r` uses; live captures pass the interface's. */
  netmask?: number;
}

export interface PcapGenResult {
  pred: Pred;
  /** The expression uses `protochain` (a loop: no kernel, no libpcap optimiser). */
  usesChain: boolean;
}

interface Off {
  v: Val | null;
  c: number;
}

type OffRel = 'pkt' | 'linkhdr' | 'llc' | 'prevmpls' | 'linkpl' | 'nosnap' | 'linktype' | 'tran4' | 'tran6';

interface ArthVal {
  val: Val;
  checks: Pred | null;
}

const NOT_IMPL_HOST: Record<string, string> = { atalk: 'ATALK', aarp: 'AARP', decnet: 'DECnet', sca: 'SCA', lat: 'LAT', mopdl: 'MOPDL', moprc: 'MOPRC', iso: 'ISO', ipx: 'IPX' };

/** Compile a parsed expression to an IR predicate. */
export function genPcap(expr: Expr | null, src: string, V: Values, opts: PcapGenOptions): PcapGenResult {
  const g = new Gen(src, V, opts);
  const pred = expr ? g.walk(expr) : { k: 'true' as const };
  return { pred, usesChain: g.usesChain };
}

/** Parse an IPv4 dotted form of 1-4 decimal parts: value and length in bits (libpcap __pcap_atoin). */
function atoin(s: string): { v: number; bits: number } | null {
  const parts = s.split('.');
  let v = 0;
  for (const p of parts) {
    if (!/^[0-9]+$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = ((v << 8) | n) >>> 0;
  }
  return { v, bits: parts.length * 8 };
}

/** 0 when `x` (a value below 2^bits) is 0, else 1, without a branch: (x + 2^bits - 1) >> bits. */
function nonZero(V: Values, x: Val, bits: number): Val {
  return V.alu('rsh', V.alu('add', x, V.k(2 ** bits - 1)), V.k(bits));
}

/**
 * 1 when `x` (a `bits`-wide value known to be `a` or `b`) is `b`, 0 when it
 * is `a`: one bit set in `b` and clear in `a`, without a branch.
 */
function whichOf(V: Values, x: Val, bits: number, a: number, b: number): Val {
  const diff = b & ~a;
  if (diff === 0) throw new LangError(`internal error: no bit tells 0x${a.toString(16)} from 0x${b.toString(16)}`);
  const bit = 31 - Math.clz32(diff);
  const v = V.alu('rsh', x, V.k(bit));
  return bit === bits - 1 ? v : V.alu('and', v, V.k(1));
}

function shl(v: number, n: number): number {
  return n >= 32 ? 0 : (v << n) >>> 0;
}

/** Parse a MAC address in any of libpcap's notations. */
function parseMac(s: string): Uint8Array | null {
  let hex: string[];
  if (/^[0-9A-Fa-f]{12}$/.test(s)) hex = s.match(/../g)!;
  else if (/^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(s)) hex = s.replace(/\./g, '').match(/../g)!;
  else {
    hex = s.split(/[:.-]/);
    if (hex.length !== 6 || hex.some((h) => !/^[0-9A-Fa-f]{1,2}$/.test(h))) return null;
  }
  return Uint8Array.from(hex.map((h) => parseInt(h, 16)));
}

class Gen {
  usesChain = false;
  private linkhdr: Off = { v: null, c: 0 };
  private linkpl: Off = { v: null, c: ETH_HEADER_LEN };
  private linktypeOff: Off = { v: null, c: EthField.Type };
  private nl = 0;
  private nlNosnap = LLC_HEADER_LEN;
  private labelDepth = 0;
  private vlanDepth = 0;
  /** After `pppoes`: the link layer is the PPP frame inside the session. */
  private ppp = false;
  /**
   * After `geneve`: true when the encapsulated packet has an Ethernet header
   * (protocol type TEB); Ethernet address tests need it (libpcap gen_geneve_ll_check).
   */
  private geneveL2: Pred | null = null;
  private cur: Span = { pos: -1, end: -1 };

  constructor(
    private src: string,
    private V: Values,
    private opts: PcapGenOptions,
  ) {}

  private err(msg: string, span: Span = this.cur): never {
    throw new LangError(msg, this.src, span.pos, span.end);
  }

  walk(e: Expr): Pred {
    switch (e.k) {
      case 'and':
      case 'or': {
        // a long chain (`port 1 or port 2 or ...`) nests thousands deep on the left: walk it without recursion
        const rights: Expr[] = [];
        let l: Expr = e;
        while ((l.k === 'and' || l.k === 'or') && l.k === e.k) {
          rights.push(l.r);
          l = l.l;
        }
        let acc = this.walk(l);
        for (let i = rights.length - 1; i >= 0; i--) acc = e.k === 'and' ? and(acc, this.walk(rights[i])) : or(acc, this.walk(rights[i]));
        return acc;
      }
      case 'not':
        return not(this.walk(e.e));
      default:
        this.cur = e;
        return this.wrapErrors(() => this.primitive(e));
    }
  }

  /** Attach a source span to errors thrown by the IR (e.g. constant division by zero). */
  private wrapErrors(f: () => Pred): Pred {
    try {
      return f();
    } catch (x) {
      if (x instanceof LangError && x.pos < 0) this.err(x.reason);
      throw x;
    }
  }

  private primitive(e: Expr): Pred {
    switch (e.k) {
      case 'prim':
        return this.prim(e.q, e.id);
      case 'abbrev':
        return this.abbrev(e.proto);
      case 'rel':
        return this.relation(e.op, e.l, e.r);
      case 'bcast':
        return this.broadcast(e.proto);
      case 'mcast':
        return this.multicast(e.proto);
      case 'less':
        return not(test(this.V, this.V.len(), 'jgt', e.n));
      case 'greater':
        return test(this.V, this.V.len(), 'jge', e.n);
      case 'byte':
        return this.byteop(e.op, e.idx, e.val);
      case 'vlan':
        return this.vlan(e.n);
      case 'mpls':
        return this.mpls(e.n);
      case 'pppoed':
        return this.linktype(ETHERTYPE.PPPOED);
      case 'llc':
        return this.llc();
      case 'llcsub':
        return this.llcSub(e.sub);
      case 'inbound':
      case 'outbound': {
        if (this.opts.target !== 'kernel') this.err(`${e.k} needs packet metadata: not supported on linktype 1 when reading savefiles`);
        const out = test(this.V, this.V.anc(ANC.PKTTYPE), 'jeq', 4);
        return e.k === 'outbound' ? out : not(out);
      }
      case 'ifindex':
        if (this.opts.target !== 'kernel') this.err('ifindex needs packet metadata: not supported on linktype 1 when reading savefiles');
        return test(this.V, this.V.anc(ANC.IFINDEX), 'jeq', e.n);
      case 'pppoes':
        return this.pppoes(e.n);
      case 'geneve':
        return this.geneve(e.n);
      case 'unsupported':
        return this.err(`${e.what} is not supported on Ethernet captures`);
      default:
        return this.err('internal error: unexpected node');
    }
  }

  // --------------------------------------------------------------- decnet ---

  /**
   * DECnet phase IV routing header carrying `addr` (libpcap gen_dnhostop):
   * long or short header, with or without the pad byte; the address is
   * little-endian in the packet, compared as a big-endian halfword.
   */
  private dnhost(addr: number, dir: DirQ): Pred {
    let sh: number;
    let lh: number;
    switch (dir) {
      case 'dst':
        sh = DecnetAddr.ShortDst;
        lh = DecnetAddr.LongDst;
        break;
      case 'src':
        sh = DecnetAddr.ShortSrc;
        lh = DecnetAddr.LongSrc;
        break;
      case 'and':
        return and(this.dnhost(addr, 'src'), this.dnhost(addr, 'dst'));
      case 'default':
      case 'or':
        return or(this.dnhost(addr, 'src'), this.dnhost(addr, 'dst'));
      default:
        return this.err(`'${dir}' is only valid for 802.11 MAC addresses`);
    }
    const a = decnetWireHalfword(addr);
    const F = DecnetField.Flags;
    // with one byte of padding (pad byte, then the flags byte, read as a halfword) or without
    const pad1 = (type: number): Pred => this.mcmp('linkpl', F, 2, ((DecnetFlags.Pad | 1) << 8) | type, 0xff00 | DecnetFlags.TypeMask);
    const nopad = (type: number): Pred => this.mcmp('linkpl', F, 1, type, DecnetFlags.TypeMask);
    let b = and(pad1(DecnetFlags.LongData), this.cmp('linkpl', F + 1 + lh, 2, a));
    b = or(and(nopad(DecnetFlags.LongData), this.cmp('linkpl', F + lh, 2, a)), b);
    b = or(and(pad1(DecnetFlags.ShortData), this.cmp('linkpl', F + 1 + sh, 2, a)), b);
    return or(and(nopad(DecnetFlags.ShortData), this.cmp('linkpl', F + sh, 2, a)), b);
  }

  // ------------------------------------------------------------------ llc ---

  /** 802.3 length field (not an EtherType) and not Novell raw 802.3 (0xffff). */
  private llc(): Pred {
    this.needEthernet("'llc'");
    return and(not(this.cmpGt('linktype', 0, 2, ETH_8023_MAX_LENGTH)), not(this.cmp('llc', LlcField.Dsap, 2, NOVELL_RAW_8023)));
  }

  /** `llc i|s|u` and the S/U command names, on the LLC control byte (libpcap gen_llc_i/s/u/_subtype). */
  private llcSub(name: string): Pred {
    const n = name.toLowerCase();
    const ctl = (v: number, mask: number): Pred => and(this.llc(), this.mcmp('llc', LlcField.Control, 1, v, mask));
    if (n === 'i') return and(this.llc(), not(test(this.V, this.loadA('llc', LlcField.Control, 1), 'jset', LlcControl.NotIFrame)));
    if (n === 's') return ctl(LlcControl.SFormat, LlcControl.FormatMask);
    if (n === 'u') return ctl(LlcControl.UFormat, LlcControl.FormatMask);
    if (n in LlcSCommand) return ctl(LlcSCommand[n], LlcControl.SCommandMask);
    if (n in LlcUCommand) return ctl(LlcUCommand[n], LlcControl.UCommandMask);
    return this.err(`unknown LLC type name "${name}"`);
  }

  // ---------------------------------------------------------------- loads ---

  private rel(o: Off, size: 1 | 2 | 4, off: number): Val {
    return this.V.ld(size, o.v, o.c + off);
  }

  private iphdrlenX(): Val {
    const V = this.V;
    if (this.linkpl.v) {
      const end = V.alu('add', V.msh(this.linkpl.v, this.linkpl.c + this.nl), this.linkpl.v);
      // after `geneve` (a kept offset), the inner IPv4 header's end is kept too
      return this.linkpl.v.op === 'store' ? V.store(end) : end;
    }
    return V.msh(null, this.linkpl.c + this.nl);
  }

  private loadA(rel: OffRel, off: number, size: 1 | 2 | 4): Val {
    switch (rel) {
      case 'pkt':
        return this.V.ld(size, null, off);
      case 'linkhdr':
        return this.rel(this.linkhdr, size, off);
      case 'llc':
        return this.rel(this.linkpl, size, off);
      case 'prevmpls':
        return this.rel(this.linkpl, size, this.nl - MPLS_LABEL_LEN + off);
      case 'linkpl':
        return this.rel(this.linkpl, size, this.nl + off);
      case 'nosnap':
        return this.rel(this.linkpl, size, this.nlNosnap + off);
      case 'linktype':
        return this.rel(this.linktypeOff, size, off);
      case 'tran4':
        return this.V.ld(size, this.iphdrlenX(), this.linkpl.c + this.nl + off);
      case 'tran6':
        return this.rel(this.linkpl, size, this.nl + IPV6_HEADER_LEN + off);
    }
  }

  private cmp(rel: OffRel, off: number, size: 1 | 2 | 4, v: number): Pred {
    return test(this.V, this.loadA(rel, off, size), 'jeq', v);
  }
  private cmpGt(rel: OffRel, off: number, size: 1 | 2 | 4, v: number): Pred {
    return test(this.V, this.loadA(rel, off, size), 'jgt', v);
  }
  private cmpGe(rel: OffRel, off: number, size: 1 | 2 | 4, v: number): Pred {
    return test(this.V, this.loadA(rel, off, size), 'jge', v);
  }
  private cmpLt(rel: OffRel, off: number, size: 1 | 2 | 4, v: number): Pred {
    return not(this.cmpGe(rel, off, size, v));
  }
  private cmpLe(rel: OffRel, off: number, size: 1 | 2 | 4, v: number): Pred {
    return not(this.cmpGt(rel, off, size, v));
  }
  private mcmp(rel: OffRel, off: number, size: 1 | 2 | 4, v: number, mask: number): Pred {
    let val = this.loadA(rel, off, size);
    if (mask >>> 0 !== 0xffffffff) val = this.V.alu('and', val, this.V.k(mask));
    return test(this.V, val, 'jeq', v);
  }
  /** Compare `bytes` at `off`: 4-byte words from the end, then 2-byte, then 1 (libpcap gen_bcmp). */
  private bcmp(rel: OffRel, off: number, bytes: Uint8Array): Pred {
    let size = bytes.length;
    let b: Pred | null = null;
    const add = (t: Pred): void => {
      b = b ? and(b, t) : t;
    };
    while (size >= 4) {
      const p = size - 4;
      add(this.cmp(rel, off + p, 4, ((bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3]) >>> 0));
      size -= 4;
    }
    while (size >= 2) {
      const p = size - 2;
      add(this.cmp(rel, off + p, 2, (bytes[p] << 8) | bytes[p + 1]));
      size -= 2;
    }
    if (size > 0) add(this.cmp(rel, off, 1, bytes[0]));
    return b ?? { k: 'true' };
  }

  // ------------------------------------------------------------ link type ---

  private linktype(proto: number): Pred {
    if (this.labelDepth > 0) {
      if (proto === ETHERTYPE.IP) return this.mplsLinktype(4);
      if (proto === ETHERTYPE.IPV6) return this.mplsLinktype(6);
      this.err('unsupported protocol over mpls');
    }
    // Inside PPPoE the link type is PPP: EtherTypes map to PPP protocol numbers.
    if (this.ppp) return this.cmp('linktype', 0, 2, pppProtoOf(proto));
    return this.etherLinktype(proto);
  }

  /**
   * `pppoes [id]`: a PPPoE session frame (with that session id); everything
   * after it reads the PPP frame inside (libpcap gen_pppoes: the link type
   * becomes PPP, the link header starts after the 6-byte PPPoE header).
   */
  private pppoes(n: number | null): Pred {
    let b = this.linktype(ETHERTYPE.PPPOES);
    if (n !== null) {
      if (n > PPPOE_MAX_SESSION) this.err(`PPPoE session number ${n} greater than maximum ${PPPOE_MAX_SESSION}`);
      // libpcap loads the first word and masks its low half: the session id
      b = and(b, this.mcmp('linkpl', PppoeField.VersionType, 4, n, PPPOE_MAX_SESSION));
    }
    // the PPP protocol field (the new link type) right after the PPPoE header, its payload after that
    const hdr: Off = { v: this.linkpl.v, c: this.linkpl.c + this.nl + PPPOE_HEADER_LEN };
    this.linkhdr = hdr;
    this.linktypeOff = hdr;
    this.linkpl = { v: hdr.v, c: hdr.c + PPP_PROTOCOL_LEN };
    this.nl = 0;
    this.nlNosnap = 0;
    this.ppp = true;
    this.geneveL2 = null;
    return b;
  }

  /**
   * `geneve [vni]` (libpcap gen_geneve): UDP to port 6081 over IPv4 (not a
   * later fragment) or IPv6 (no extension header), Geneve version 0, with
   * that VNI when given. Everything after it reads the encapsulated packet:
   * with protocol type TEB an Ethernet frame (its EtherType is the link
   * type, the payload follows its 14 bytes), otherwise the protocol type is
   * the link type and the payload starts right after the Geneve header and
   * its options. libpcap keeps these offsets in scratch registers set by a
   * branch; here they are branch-free values over the packet (a 0/1 flag
   * times a distance), so every back end reads the same bytes. As in
   * libpcap, the IPv4-vs-IPv6 choice, the MPLS depth and the LLC
   * (no-SNAP) offset are not reset.
   */
  private geneve(n: number | null): Pred {
    if (n !== null && n > 0xffffff) this.err(`Geneve VNI ${n} greater than maximum 16777215`);
    const V = this.V;
    const check = (v6: boolean): Pred => {
      const rel: OffRel = v6 ? 'tran6' : 'tran4';
      let b = this.anyPort(IPPROTO.UDP, 'dst', v6, GENEVE_PORT, GENEVE_PORT, false);
      b = and(b, this.mcmp(rel, UDP_HEADER_LEN + GeneveField.VersionOptLen, 1, 0, GENEVE_VERSION_MASK));
      if (n !== null) b = and(b, this.mcmp(rel, UDP_HEADER_LEN + GeneveField.Vni, 4, (n << 8) >>> 0, 0xffffff00));
      return b;
    };
    const matched = or(check(false), check(true));
    // Where a packet that matched gets here, its link type (MPLS: IP version) is IPv4's or IPv6's:
    // one bit of it tells which branch libpcap took (1: IPv6).
    let is6: Val;
    if (this.labelDepth > 0) is6 = whichOf(V, this.loadA('linkpl', 0, 1), 8, IpVersionByte.V4, IpVersionByte.V6);
    else if (this.ppp) is6 = whichOf(V, this.loadA('linktype', 0, 2), 16, PppProto.IP, PppProto.IPv6);
    else is6 = whichOf(V, this.loadA('linktype', 0, 2), 16, ETHERTYPE.IP, ETHERTYPE.IPV6);
    // end of the outer IP header (IPv4: its length; IPv6: 40, no extension header) relative to linkpl.c + nl,
    // kept once computed: every later offset starts from it, as from libpcap's scratch registers
    const hl4 = this.iphdrlenX();
    const hl6 = this.linkpl.v ? V.alu('add', this.linkpl.v, V.k(IPV6_HEADER_LEN)) : V.k(IPV6_HEADER_LEN);
    const hl = V.store(V.alu('add', V.alu('mul', is6, V.alu('sub', hl6, hl4)), hl4));
    const c = this.linkpl.c + this.nl + UDP_HEADER_LEN; // the Geneve header is at hl + c
    const opts = V.store(V.alu('lsh', V.alu('and', V.ld(1, hl, c + GeneveField.VersionOptLen), V.k(GENEVE_OPTLEN_MASK)), V.k(2)));
    const ptype = V.ld(2, hl, c + GeneveField.ProtocolType);
    const teb = V.store(V.alu('xor', nonZero(V, V.alu('xor', ptype, V.k(ETHERTYPE.TEB)), 16), V.k(1)));
    const end = V.store(V.alu('add', hl, opts)); // + c + GENEVE_HEADER_LEN: after the Geneve options
    this.linkhdr = { v: end, c: c + GENEVE_HEADER_LEN };
    // TEB: the inner Ethernet frame's payload (+14) and EtherType (+12); otherwise the payload right after
    // the options and the protocol type field of the Geneve header
    // (sums of non-negative terms: an offset never wraps below 0)
    this.linkpl = { v: V.store(V.alu('add', V.alu('mul', teb, V.k(ETH_HEADER_LEN)), end)), c: c + GENEVE_HEADER_LEN };
    const toInnerType = GENEVE_HEADER_LEN - GeneveField.ProtocolType + EthField.Type; // protocol type -> inner EtherType, past the options
    this.linktypeOff = { v: V.store(V.alu('add', V.alu('mul', teb, V.alu('add', opts, V.k(toInnerType))), hl)), c: c + GeneveField.ProtocolType };
    // libpcap reads the protocol type when the match succeeds (a packet cut inside it is refused): so do we,
    // with a test that is never true (teb is 0 or 1); it computes the offsets above at once, as libpcap does
    // there (they read no byte past the protocol type)
    const b = and(matched, keeping(not(test(V, teb, 'jgt', 1)), [opts, this.linktypeOff.v!, this.linkpl.v!]));
    this.nl = 0;
    this.ppp = false;
    this.geneveL2 = test(V, ptype, 'jeq', ETHERTYPE.TEB);
    return b;
  }

  /** Primitives that need an Ethernet (or 802.3 LLC) link layer refuse PPP, as libpcap does after `pppoes`. */
  private needEthernet(what: string): void {
    if (this.ppp) this.err(`${what} not supported on PPP (inside 'pppoes')`);
  }

  private mplsLinktype(fam: 4 | 6): Pred {
    // the last label is the bottom of the stack, and the IP version nibble after it is `fam`
    const b0 = this.mcmp('linkpl', MplsByte.Bos - MPLS_LABEL_LEN, 1, MplsByte.BosBit, MplsByte.BosBit);
    const b1 = this.mcmp('linkpl', 0, 1, fam === 4 ? IpVersionByte.V4 : IpVersionByte.V6, IpVersionByte.Mask);
    return and(b0, b1);
  }

  private snap(org: number, ptype: number): Pred {
    return this.bcmp('llc', LlcField.Dsap, snapHeader(org, ptype));
  }

  private etherLinktype(proto: number): Pred {
    const is8023 = (): Pred => not(this.cmpGt('linktype', 0, 2, ETH_8023_MAX_LENGTH));
    switch (proto) {
      case LLCSAP.ISONS:
      case LLCSAP.IP:
      case LLCSAP.NETBEUI:
        return and(is8023(), this.cmp('llc', LlcField.Dsap, 2, (proto << 8) | proto));
      case LLCSAP.IPX: {
        let b1 = or(this.cmp('llc', LlcField.Dsap, 1, LLCSAP.IPX), this.cmp('llc', LlcField.Dsap, 2, NOVELL_RAW_8023));
        b1 = or(this.snap(SnapOui.Encapsulated, ETHERTYPE.IPX), b1);
        b1 = and(is8023(), b1);
        return or(this.cmp('linktype', 0, 2, ETHERTYPE.IPX), b1);
      }
      case ETHERTYPE.ATALK:
      case ETHERTYPE.AARP: {
        const b0 = is8023();
        const b1 = proto === ETHERTYPE.ATALK ? this.snap(SnapOui.Apple, ETHERTYPE.ATALK) : this.snap(SnapOui.Encapsulated, ETHERTYPE.AARP);
        return or(this.cmp('linktype', 0, 2, proto), and(b0, b1));
      }
      default:
        // an LLC SAP: the 802.3 length field (where the EtherType would be), then the DSAP
        if (proto <= ETH_8023_MAX_LENGTH) return and(is8023(), this.cmp('linktype', EthField.Length - EthField.Type + LlcField.Dsap, 1, proto));
        return this.cmp('linktype', 0, 2, proto);
    }
  }

  // ---------------------------------------------------------------- hosts ---

  private prim(q: Qual, id: IdVal): Pred {
    this.cur = id;
    switch (id.k) {
      case 'num':
        return this.ncode(null, id.v, q);
      case 'name':
        return this.scode(id.s, q);
      case 'hid':
        if (q.addr === 'port' || q.addr === 'portrange' || q.addr === 'proto' || q.addr === 'protochain') {
          this.err(`'${q.addr}' modifier applied to ip host`);
        }
        return this.ncode(id.s, 0, q);
      case 'hidmask':
        return this.mcode(id.s, id.mask, 0, q);
      case 'hidlen':
        return this.mcode(id.s, null, id.len, q);
      case 'hid6':
        return this.mcode6(id.s, id.len, q);
      case 'eid':
        return this.ecode(id.s, q);
    }
  }

  private noQual(q: Qual): void {
    if (q.addr === 'undef') {
      this.err('this identifier has no qualifier to take: the term before it is not a host/net/port primitive (write e.g. "port 80")');
    }
  }

  private ncode(s: string | null, v: number, q: Qual): Pred {
    this.noQual(q);
    let vlen = 32;
    if (s !== null && q.proto === 'decnet') {
      // libpcap __pcap_atodn: "area.node", area in the top 6 bits, node in the low 10.
      const m = /^\s*([+-]?[0-9]+)\.([+-]?[0-9]+)/.exec(s);
      if (!m) this.err(`malformed decnet address '${s}'`);
      v = decnetAddress(Number(m[1]), Number(m[2]));
    } else if (s !== null) {
      const r = atoin(s);
      if (!r) this.err(`invalid IPv4 address '${s}'`);
      v = r.v;
      vlen = r.bits;
    }
    switch (q.addr) {
      case 'default':
      case 'host':
      case 'net': {
        if (q.proto === 'link') this.err('illegal link layer address');
        if (q.proto === 'decnet') return and(this.linktype(ETHERTYPE.DN), this.dnhost(v, q.dir));
        let mask = 0xffffffff;
        if (s === null && q.addr === 'net') {
          while (v !== 0 && (v & 0xff000000) === 0) {
            v = shl(v, 8);
            mask = shl(mask, 8);
          }
        } else {
          v = shl(v, 32 - vlen);
          mask = shl(mask, 32 - vlen);
        }
        return this.host(v, mask, q.proto, q.dir, q.addr);
      }
      case 'port':
      case 'portrange': {
        const p = this.portProto(q.proto, q.addr);
        if (v > 65535) this.err(`illegal port number ${v} > 65535`);
        if (q.addr === 'port') return or(this.port6(v, p, q.dir), this.port(v, p, q.dir));
        return or(this.portrange6(v, v, p, q.dir), this.portrange(v, v, p, q.dir));
      }
      case 'gateway':
        return this.err("'gateway' requires a name");
      case 'proto':
        return this.proto(v, q.proto, q.dir);
      case 'protochain':
        return this.protochain(v, q.proto);
      default:
        return this.err('syntax error');
    }
  }

  private portProto(proto: ProtoQ, what: string): number {
    switch (proto) {
      case 'udp':
        return IPPROTO.UDP;
      case 'tcp':
        return IPPROTO.TCP;
      case 'sctp':
        return IPPROTO.SCTP;
      case 'default':
        return -1;
      default:
        return this.err(`illegal qualifier of '${what}'`);
    }
  }

  private scode(name: string, q: Qual): Pred {
    this.noQual(q);
    switch (q.addr) {
      case 'net':
        return this.err(`'${name}' is a network name; netring does not read /etc/networks: use a number (e.g. net 10.0.0.0/8)`);
      case 'default':
      case 'host':
        if (q.proto === 'link') return this.err(`'${name}' is an Ethernet host name; netring does not read /etc/ethers: use a MAC address`);
        return this.err(`'${name}' is a host name; netring does not resolve names (by design: no DNS lookups when compiling a filter): use an IP address`);
      case 'port': {
        const proto = this.portProto(q.proto, 'port');
        const r = portByName(name);
        if (!r) return this.err(`unknown port '${name}'`);
        const real = this.portNameProto(name, r.proto, proto, '');
        return or(this.port6(r.port, real, q.dir), this.port(r.port, real, q.dir));
      }
      case 'portrange': {
        const proto = this.portProto(q.proto, 'portrange');
        const m = /^([0-9]+)-([0-9]+)/.exec(name);
        let p1: number;
        let p2: number;
        let rp: 'tcp' | 'udp' | 'any' = 'any';
        if (m) {
          p1 = Number(m[1]);
          p2 = Number(m[2]);
        } else {
          // libpcap splits at the first '-' and looks each side up as a service (a number is its own port, any protocol).
          const dash = name.indexOf('-');
          if (dash < 0) return this.err(`unknown port in range '${name}'`);
          const side = (s: string): { port: number; proto: 'tcp' | 'udp' | 'any' } | null =>
            /^[0-9]+$/.test(s) ? { port: Number(s), proto: 'any' } : portByName(s);
          const a = side(name.slice(0, dash));
          const b = side(name.slice(dash + 1));
          if (!a || !b) return this.err(`unknown port in range '${name}'`);
          p1 = a.port;
          p2 = b.port;
          rp = a.proto === b.proto ? a.proto : 'any';
        }
        const real = this.portNameProto(name, rp, proto, ' in range');
        if (p1 > 65535) this.err(`illegal port number ${p1} > 65535`);
        if (p2 > 65535) this.err(`illegal port number ${p2} > 65535`);
        return or(this.portrange6(p1, p2, real, q.dir), this.portrange(p1, p2, real, q.dir));
      }
      case 'gateway':
        return this.err(`'gateway ${name}' needs host name resolution, which netring does not do`);
      case 'proto':
      case 'protochain': {
        const v = this.lookupProto(name, q.proto);
        return q.addr === 'proto' ? this.proto(v, q.proto, q.dir) : this.protochain(v, q.proto);
      }
      default:
        return this.err('syntax error');
    }
  }

  private portNameProto(name: string, nameProto: 'tcp' | 'udp' | 'any', qual: number, inRange: string): number {
    const np = nameProto === 'tcp' ? IPPROTO.TCP : nameProto === 'udp' ? IPPROTO.UDP : -1;
    if (qual === IPPROTO.UDP && np === IPPROTO.TCP) this.err(`port${inRange} '${name}' is tcp`);
    if (qual === IPPROTO.TCP && np === IPPROTO.UDP) this.err(`port${inRange} '${name}' is udp`);
    if (qual === IPPROTO.SCTP && np >= 0) this.err(`port${inRange} '${name}' is ${nameProto}`);
    return qual >= 0 ? qual : np;
  }

  private lookupProto(name: string, proto: ProtoQ): number {
    switch (proto) {
      case 'default':
      case 'ip':
      case 'ip6': {
        const v = ipProtoByName(name);
        if (v < 0) this.err(`unknown ip proto '${name}'`);
        return v;
      }
      case 'link': {
        const v = etherProtoByName(name);
        if (v < 0) this.err(`unknown ether proto '${name}'`);
        return v;
      }
      case 'iso':
        if (name === 'esis') return Nlpid.ESIS;
        if (name === 'isis') return Nlpid.ISIS;
        if (name === 'clnp') return Nlpid.CLNP;
        return this.err(`unknown osi proto '${name}'`);
      default:
        return this.err(`unknown protocol: ${name}`);
    }
  }

  private mcode(s1: string, s2: string | null, masklen: number, q: Qual): Pred {
    this.noQual(q);
    const n0 = atoin(s1);
    if (!n0) this.err(`invalid IPv4 address '${s1}'`);
    const n = shl(n0.v, 32 - n0.bits);
    let m: number;
    if (s2 !== null) {
      const m0 = atoin(s2);
      if (!m0) this.err(`invalid IPv4 netmask '${s2}'`);
      m = shl(m0.v, 32 - m0.bits);
      if ((n & ~m) !== 0) this.err(`non-network bits set in "${s1} mask ${s2}"`);
    } else {
      if (masklen > 32) this.err('mask length must be <= 32');
      m = masklen === 0 ? 0 : shl(0xffffffff, 32 - masklen);
      if ((n & ~m) !== 0) this.err(`non-network bits set in "${s1}/${masklen}"`);
    }
    if (q.addr !== 'net') this.err('Mask syntax for networks only');
    return this.host(n, m, q.proto, q.dir, 'net');
  }

  private host(addr: number, mask: number, proto: ProtoQ, dir: DirQ, type: string): Pred {
    const typestr = type === 'net' ? 'net' : 'host';
    switch (proto) {
      case 'default': {
        let b = this.host(addr, mask, 'ip', dir, type);
        if (this.labelDepth === 0) {
          b = or(b, this.host(addr, mask, 'arp', dir, type));
          b = or(b, this.host(addr, mask, 'rarp', dir, type));
        }
        return b;
      }
      case 'ip':
        return this.hostop(addr, mask, dir, ETHERTYPE.IP, Ipv4Field.Src, Ipv4Field.Dst);
      case 'rarp':
        return this.hostop(addr, mask, dir, ETHERTYPE.REVARP, ArpField.EthIpv4SenderIp, ArpField.EthIpv4TargetIp);
      case 'arp':
        return this.hostop(addr, mask, dir, ETHERTYPE.ARP, ArpField.EthIpv4SenderIp, ArpField.EthIpv4TargetIp);
      case 'link':
        return this.err(`link-layer modifier applied to ${typestr}`);
      case 'ip6':
        return this.err("'ip6' modifier applied to ip host");
      default:
        if (proto in NOT_IMPL_HOST) return this.err(`${NOT_IMPL_HOST[proto]} host filtering not implemented`);
        return this.err(`'${proto}' modifier applied to ${typestr}`);
    }
  }

  private dirCombine(dir: DirQ, one: (d: 'src' | 'dst') => Pred): Pred {
    switch (dir) {
      case 'src':
      case 'dst':
        return one(dir);
      case 'and': {
        const a = one('src');
        return and(a, one('dst'));
      }
      case 'or':
      case 'default': {
        const a = one('src');
        return or(a, one('dst'));
      }
      default:
        return this.err(`'${dir}' is only valid for 802.11 MAC addresses`);
    }
  }

  private hostop(addr: number, mask: number, dir: DirQ, ethertype: number, srcOff: number, dstOff: number): Pred {
    return this.dirCombine(dir, (d) => and(this.linktype(ethertype), this.mcmp('linkpl', d === 'src' ? srcOff : dstOff, 4, addr, mask)));
  }

  private mcode6(s: string, len: number, q: Qual): Pred {
    this.noQual(q);
    const a = parseIPv6(s);
    if (!a) this.err(`invalid ip6 address ${s}`);
    if (len > 128) this.err('mask length must be <= 128');
    const m = new Uint8Array(16);
    for (let i = 0; i < 16; i++) {
      const bits = Math.max(0, Math.min(8, len - 8 * i));
      m[i] = (0xff << (8 - bits)) & 0xff;
    }
    for (let i = 0; i < 16; i++) if ((a[i] & ~m[i]) !== 0) this.err(`non-network bits set in "${s}/${len}"`);
    if (q.addr === 'default' || q.addr === 'host') {
      if (len !== 128) this.err('Mask syntax for networks only');
    } else if (q.addr !== 'net') {
      this.err('invalid qualifier against IPv6 address');
    }
    return this.host6(a, m, q.proto, q.dir, q.addr === 'net' ? 'net' : 'host');
  }

  private host6(addr: Uint8Array, mask: Uint8Array, proto: ProtoQ, dir: DirQ, typestr: string): Pred {
    switch (proto) {
      case 'default':
      case 'ip6':
        return this.dirCombine(dir, (d) => {
          const off = d === 'src' ? Ipv6Field.Src : Ipv6Field.Dst;
          const word = (b: Uint8Array, i: number): number => ((b[4 * i] << 24) | (b[4 * i + 1] << 16) | (b[4 * i + 2] << 8) | b[4 * i + 3]) >>> 0;
          let b = this.mcmp('linkpl', off + 12, 4, word(addr, 3), word(mask, 3));
          b = and(this.mcmp('linkpl', off + 8, 4, word(addr, 2), word(mask, 2)), b);
          b = and(this.mcmp('linkpl', off + 4, 4, word(addr, 1), word(mask, 1)), b);
          b = and(this.mcmp('linkpl', off, 4, word(addr, 0), word(mask, 0)), b);
          return and(this.linktype(ETHERTYPE.IPV6), b);
        });
      case 'link':
        return this.err(`link-layer modifier applied to ip6 ${typestr}`);
      case 'ip':
      case 'rarp':
      case 'arp':
        return this.err(`'${proto}' modifier applied to ip6 ${typestr}`);
      default:
        if (proto in NOT_IMPL_HOST) return this.err(`${NOT_IMPL_HOST[proto]} host filtering not implemented`);
        return this.err(`'${proto}' modifier applied to ${typestr}`);
    }
  }

  private ecode(s: string, q: Qual): Pred {
    this.noQual(q);
    const mac = parseMac(s);
    if (!mac) this.err(`bogus ethernet address '${s}'`);
    if ((q.addr === 'host' || q.addr === 'default') && q.proto === 'link') return this.ehostop(mac, q.dir);
    return this.err('ethernet address used in non-ether expression');
  }

  private ehostop(mac: Uint8Array, dir: DirQ): Pred {
    this.needEthernet('ethernet addresses');
    return this.withL2(this.dirCombine(dir, (d) => this.bcmp('linkhdr', d === 'src' ? EthField.Src : EthField.Dst, mac)));
  }

  /** After `geneve`, Ethernet address tests also require an inner Ethernet header. */
  private withL2(b: Pred): Pred {
    return this.geneveL2 ? and(this.geneveL2, b) : b;
  }

  // ---------------------------------------------------------------- ports ---

  private ipfrag(): Pred {
    return not(test(this.V, this.loadA('linkpl', Ipv4Field.FlagsFragment, 2), 'jset', Ipv4Frag.OffsetMask));
  }

  private portop(port: number, proto: number, dir: DirQ, v6: boolean, lo = port, hi = port, range = false): Pred {
    const rel: OffRel = v6 ? 'tran6' : 'tran4';
    const atom = (off: number): Pred => {
      if (!range) return this.cmp(rel, off, 2, port);
      let [a, b] = [lo, hi];
      if (a > b) [a, b] = [b, a];
      return and(this.cmpGe(rel, off, 2, a), this.cmpLe(rel, off, 2, b));
    };
    const b0 = v6 ? this.cmp('linkpl', Ipv6Field.NextHeader, 1, proto) : and(this.cmp('linkpl', Ipv4Field.Protocol, 1, proto), this.ipfrag());
    // (TCP, UDP and SCTP have their ports at the same offsets)
    const b1 = this.dirCombine(dir, (d) => atom(d === 'src' ? UdpField.SrcPort : UdpField.DstPort));
    return and(b0, b1);
  }

  private anyPort(ipProto: number, dir: DirQ, v6: boolean, lo: number, hi: number, range: boolean): Pred {
    const b0 = this.linktype(v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IP);
    let b1: Pred;
    if (ipProto >= 0) b1 = this.portop(lo, ipProto, dir, v6, lo, hi, range);
    else {
      b1 = or(this.portop(lo, IPPROTO.TCP, dir, v6, lo, hi, range), this.portop(lo, IPPROTO.UDP, dir, v6, lo, hi, range));
      b1 = or(this.portop(lo, IPPROTO.SCTP, dir, v6, lo, hi, range), b1);
    }
    return and(b0, b1);
  }

  private port(p: number, ipProto: number, dir: DirQ): Pred {
    return this.anyPort(ipProto, dir, false, p, p, false);
  }
  private port6(p: number, ipProto: number, dir: DirQ): Pred {
    return this.anyPort(ipProto, dir, true, p, p, false);
  }
  private portrange(p1: number, p2: number, ipProto: number, dir: DirQ): Pred {
    return this.anyPort(ipProto, dir, false, p1, p2, true);
  }
  private portrange6(p1: number, p2: number, ipProto: number, dir: DirQ): Pred {
    return this.anyPort(ipProto, dir, true, p1, p2, true);
  }

  // ------------------------------------------------------------ protocols ---

  private proto(v: number, proto: ProtoQ, dir: DirQ): Pred {
    if (dir !== 'default') this.err("direction applied to 'proto'");
    switch (proto) {
      case 'default': {
        const b0 = this.proto(v, 'ip', dir);
        return or(b0, this.proto(v, 'ip6', dir));
      }
      case 'ip':
        return and(this.linktype(ETHERTYPE.IP), this.cmp('linkpl', Ipv4Field.Protocol, 1, v));
      case 'ip6': {
        const b0 = this.linktype(ETHERTYPE.IPV6);
        const frag = and(this.cmp('linkpl', Ipv6Field.NextHeader, 1, IPPROTO.FRAGMENT), this.cmp('linkpl', IPV6_HEADER_LEN + Ipv6ExtField.NextHeader, 1, v));
        return and(b0, or(this.cmp('linkpl', Ipv6Field.NextHeader, 1, v), frag));
      }
      case 'iso':
        return and(this.linktype(LLCSAP.ISONS), this.cmp('nosnap', IsisField.Nlpid, 1, v));
      case 'isis':
        return and(this.proto(Nlpid.ISIS, 'iso', 'default'), this.cmp('nosnap', IsisField.PduType, 1, v));
      case 'link':
        return this.linktype(v);
      case 'arp':
      case 'rarp':
      case 'sca':
      case 'lat':
      case 'moprc':
      case 'mopdl':
        return this.err(`${proto} does not encapsulate another protocol`);
      case 'atalk':
      case 'decnet':
        return this.err(`${proto} encapsulation is not specifiable`);
      default:
        return this.err(`'${proto} proto' is bogus`);
    }
  }

  private protochain(v: number, proto: ProtoQ): Pred {
    switch (proto) {
      case 'default': {
        const b0 = this.protochain(v, 'ip');
        return or(b0, this.protochain(v, 'ip6'));
      }
      case 'ip':
      case 'ip6': {
        if (this.linkpl.v) this.err("'protochain' not supported with variable length headers");
        this.usesChain = true;
        const b0 = this.linktype(proto === 'ip' ? ETHERTYPE.IP : ETHERTYPE.IPV6);
        return and(b0, { k: 'chain', family: proto === 'ip' ? 4 : 6, proto: v, base: this.linkpl.c + this.nl });
      }
      default:
        return this.err("bad protocol applied for 'protochain'");
    }
  }

  private abbrev(proto: ProtoQ): Pred {
    const both = (v: number): Pred => {
      const b = this.proto(v, 'ip', 'default');
      return or(b, this.proto(v, 'ip6', 'default'));
    };
    const isis = (types: readonly number[]): Pred => {
      let b: Pred = FALSE;
      for (const t of types) b = b === FALSE ? this.proto(t, 'isis', 'default') : or(b, this.proto(t, 'isis', 'default'));
      return b;
    };
    switch (proto) {
      case 'sctp':
        return both(IPPROTO.SCTP);
      case 'tcp':
        return both(IPPROTO.TCP);
      case 'udp':
        return both(IPPROTO.UDP);
      case 'icmp':
        return this.proto(IPPROTO.ICMP, 'ip', 'default');
      case 'igmp':
        return this.proto(IPPROTO.IGMP, 'ip', 'default');
      case 'igrp':
        return this.proto(IPPROTO.IGRP, 'ip', 'default');
      case 'pim':
        return both(IPPROTO.PIM);
      case 'vrrp':
      case 'carp':
        return this.proto(IPPROTO.VRRP, 'ip', 'default');
      case 'ip':
        return this.linktype(ETHERTYPE.IP);
      case 'arp':
        return this.linktype(ETHERTYPE.ARP);
      case 'rarp':
        return this.linktype(ETHERTYPE.REVARP);
      case 'link':
        return this.err('link layer applied in wrong context');
      case 'atalk':
        return this.linktype(ETHERTYPE.ATALK);
      case 'aarp':
        return this.linktype(ETHERTYPE.AARP);
      case 'decnet':
        return this.linktype(ETHERTYPE.DN);
      case 'sca':
        return this.linktype(ETHERTYPE.SCA);
      case 'lat':
        return this.linktype(ETHERTYPE.LAT);
      case 'mopdl':
        return this.linktype(ETHERTYPE.MOPDL);
      case 'moprc':
        return this.linktype(ETHERTYPE.MOPRC);
      case 'ip6':
        return this.linktype(ETHERTYPE.IPV6);
      case 'icmp6':
        return this.proto(IPPROTO.ICMPV6, 'ip6', 'default');
      case 'ah':
        return both(IPPROTO.AH);
      case 'esp':
        return both(IPPROTO.ESP);
      case 'iso':
        return this.linktype(LLCSAP.ISONS);
      case 'esis':
        return this.proto(Nlpid.ESIS, 'iso', 'default');
      case 'isis':
        return this.proto(Nlpid.ISIS, 'iso', 'default');
      case 'clnp':
        return this.proto(Nlpid.CLNP, 'iso', 'default');
      case 'l1':
      case 'l2':
      case 'iih':
      case 'lsp':
      case 'snp':
      case 'csnp':
      case 'psnp':
        return isis(ISIS_PDU_CLASSES[proto]);
      case 'stp':
        return this.linktype(LLCSAP.STP);
      case 'ipx':
        return this.linktype(LLCSAP.IPX);
      case 'netbeui':
        return this.linktype(LLCSAP.NETBEUI);
      case 'radio':
        return this.err("'radio' is not a valid protocol type");
      default:
        return this.err(`unknown protocol '${proto}'`);
    }
  }

  // ----------------------------------------------------- other primitives ---

  private broadcast(proto: ProtoQ): Pred {
    switch (proto) {
      case 'default':
      case 'link':
        return this.ehostop(Uint8Array.from(ETH_BROADCAST), 'dst');
      case 'ip': {
        // Offline tcpdump compiles with netmask 0; live, the interface's netmask (the CLI passes it).
        const hostmask = ~(this.opts.netmask ?? 0) >>> 0;
        const b0 = this.linktype(ETHERTYPE.IP);
        const b1 = this.mcmp('linkpl', Ipv4Field.Dst, 4, 0, hostmask);
        const b2 = this.mcmp('linkpl', Ipv4Field.Dst, 4, hostmask, hostmask);
        return and(b0, or(b1, b2));
      }
      default:
        return this.err('only link-layer/IP broadcast filters supported');
    }
  }

  private multicast(proto: ProtoQ): Pred {
    switch (proto) {
      case 'default':
      case 'link':
        this.needEthernet("link-layer multicast");
        return this.withL2(test(this.V, this.loadA('linkhdr', EthField.Dst, 1), 'jset', EthAddrBit.Group));
      case 'ip':
        return and(this.linktype(ETHERTYPE.IP), this.cmpGe('linkpl', Ipv4Field.Dst, 1, IPV4_MULTICAST_FIRST_BYTE));
      case 'ip6':
        return and(this.linktype(ETHERTYPE.IPV6), this.cmp('linkpl', Ipv6Field.Dst, 1, IPV6_MULTICAST_FIRST_BYTE));
      default:
        return this.err('link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel');
    }
  }

  private byteop(op: string, idx: number, val: number): Pred {
    switch (op) {
      case '=':
        return this.cmp('linkhdr', idx, 1, val);
      case '<':
        return this.cmpLt('linkhdr', idx, 1, val);
      case '>':
        return this.cmpGt('linkhdr', idx, 1, val);
      default:
        return this.err(`'byte ${idx} ${op} ${val}' is refused: libpcap compiles it without loading the byte (it tests whatever the accumulator holds); write 'ether[${idx}] ${op} ${val} != 0' instead`);
    }
  }

  private tpidTest(): Pred {
    let b = or(this.linktype(ETHERTYPE.VLAN), this.linktype(ETHERTYPE.QINQ_AD));
    b = or(b, this.linktype(ETHERTYPE.QINQ_OLD));
    return b;
  }

  private vlan(n: number | null): Pred {
    if (this.labelDepth > 0) this.err('no VLAN match after MPLS');
    this.needEthernet('VLAN');
    if (n !== null && n > 4095) this.err(`VLAN tag ${n} greater than maximum 4095`);
    const V = this.V;
    let b: Pred;
    if (this.opts.target === 'kernel' && this.vlanDepth === 0 && this.linkhdr.v === null) {
      const present = test(V, V.anc(ANC.VLAN_TAG_PRESENT), 'jeq', 1);
      b = or(present, this.tpidTest());
      if (n !== null) {
        const fromMeta = and(present, test(V, V.alu('and', V.anc(ANC.VLAN_TAG), V.k(VlanTci.VidMask)), 'jeq', n));
        const inline = and(not(present), this.mcmp('linkpl', VlanField.Tci, 2, n, VlanTci.VidMask));
        b = and(b, or(fromMeta, inline));
      }
      // Later headers start 4 bytes further unless the kernel stripped the tag.
      const shift = V.alu('lsh', V.alu('xor', V.anc(ANC.VLAN_TAG_PRESENT), V.k(1)), V.k(2));
      this.linkpl = { v: shift, c: this.linkpl.c };
      this.linktypeOff = { v: shift, c: this.linktypeOff.c };
    } else {
      b = this.tpidTest();
      if (n !== null) b = and(b, this.mcmp('linkpl', VlanField.Tci, 2, n, VlanTci.VidMask));
      this.linkpl = { ...this.linkpl, c: this.linkpl.c + VLAN_TAG_LEN };
      this.linktypeOff = { ...this.linktypeOff, c: this.linktypeOff.c + VLAN_TAG_LEN };
    }
    this.vlanDepth++;
    return b;
  }

  private mpls(n: number | null): Pred {
    let b0: Pred;
    if (this.labelDepth > 0) b0 = this.mcmp('prevmpls', MplsByte.Bos, 1, 0, MplsByte.BosBit); // the previous label is not the bottom
    else b0 = this.linktype(this.ppp ? PppProto.MplsUnicast : ETHERTYPE.MPLS);
    if (n !== null) {
      if (n > MPLS_MAX_LABEL) this.err(`MPLS label ${n} greater than maximum ${MPLS_MAX_LABEL}`);
      b0 = and(b0, this.mcmp('linkpl', 0, 4, n << MplsEntry.LabelShift, MplsEntry.LabelMask));
    }
    this.nlNosnap += MPLS_LABEL_LEN;
    this.nl += MPLS_LABEL_LEN;
    this.labelDepth++;
    return b0;
  }

  // ------------------------------------------------------------ accessors ---

  private relation(op: string, l: Arth, r: Arth): Pred {
    const a0 = this.arth(l);
    const a1 = this.arth(r);
    let t: Pred;
    switch (op) {
      case '>':
        t = test(this.V, a0.val, 'jgt', a1.val);
        break;
      case '>=':
        t = test(this.V, a0.val, 'jge', a1.val);
        break;
      case '=':
        t = test(this.V, a0.val, 'jeq', a1.val);
        break;
      case '<=':
        t = not(test(this.V, a0.val, 'jgt', a1.val));
        break;
      case '<':
        t = not(test(this.V, a0.val, 'jge', a1.val));
        break;
      default:
        t = not(test(this.V, a0.val, 'jeq', a1.val));
    }
    let checks: Pred | null = a0.checks;
    if (a1.checks) checks = checks ? and(checks, a1.checks) : a1.checks;
    return checks ? and(checks, t) : t;
  }

  private arth(a: Arth): ArthVal {
    const V = this.V;
    switch (a.k) {
      case 'num':
        return { val: V.k(a.v), checks: null };
      case 'len':
        return { val: V.len(), checks: null };
      case 'neg': {
        const e = this.arth(a.e);
        return { val: V.neg(e.val), checks: e.checks };
      }
      case 'bin': {
        const l = this.arth(a.l);
        const r = this.arth(a.r);
        if ((a.op === '/' || a.op === '%') && a.r.k === 'num' && a.r.v === 0) {
          this.err(a.op === '/' ? 'division by zero' : 'modulus by zero', a.r);
        }
        const ops: Record<ArithOp, AluOp> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod', '&': 'and', '|': 'or', '^': 'xor', '<<': 'lsh', '>>': 'rsh' };
        let checks = l.checks;
        if (r.checks) checks = checks ? and(checks, r.checks) : r.checks;
        return { val: V.alu(ops[a.op], l.val, r.val), checks };
      }
      case 'load':
        return this.load(a.proto, this.arth(a.index), a.size, a);
    }
  }

  private load(proto: ProtoQ, inst: ArthVal, size: number, span: Span): ArthVal {
    if (size !== 1 && size !== 2 && size !== 4) this.err('data size must be 1, 2, or 4', span);
    const sz = size as 1 | 2 | 4;
    const V = this.V;
    const plus = (o: Off, idx: Val): Val | null => (o.v ? V.alu('add', o.v, idx) : idx);
    switch (proto) {
      case 'link':
        return { val: V.ld(sz, plus(this.linkhdr, inst.val), this.linkhdr.c), checks: inst.checks };
      case 'ip':
      case 'arp':
      case 'rarp':
      case 'atalk':
      case 'decnet':
      case 'sca':
      case 'lat':
      case 'moprc':
      case 'mopdl':
      case 'ip6': {
        const val = V.ld(sz, plus(this.linkpl, inst.val), this.linkpl.c + this.nl);
        const b = this.abbrev(proto);
        return { val, checks: inst.checks ? and(inst.checks, b) : b };
      }
      case 'sctp':
      case 'tcp':
      case 'udp':
      case 'icmp':
      case 'igmp':
      case 'igrp':
      case 'pim':
      case 'vrrp':
      case 'carp': {
        const val = V.ld(sz, V.alu('add', inst.val, this.iphdrlenX()), this.linkpl.c + this.nl);
        let b = and(this.abbrev(proto), this.ipfrag());
        if (inst.checks) b = and(inst.checks, b);
        b = and(this.abbrev('ip'), b);
        return { val, checks: b };
      }
      case 'icmp6': {
        let b = this.abbrev('ip6');
        if (inst.checks) b = and(inst.checks, b);
        b = and(b, this.cmp('linkpl', Ipv6Field.NextHeader, 1, IPPROTO.ICMPV6));
        const val = V.ld(sz, plus(this.linkpl, inst.val), this.linkpl.c + this.nl + IPV6_HEADER_LEN);
        return { val, checks: b };
      }
      case 'radio':
        return this.err('radio information not present in capture', span);
      default:
        return this.err(`'${proto}[...]' is an unsupported index operation`, span);
    }
  }
}
