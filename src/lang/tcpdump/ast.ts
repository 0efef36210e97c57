/**
 * Syntax tree of a pcap-filter expression. Every node keeps its source
 * span so that semantic errors can point at the offending text.
 */

/** Protocol qualifier (`ip`, `tcp`, `ether`=`link`, ...), 'default' when absent. */
export type ProtoQ = string;
/** Direction qualifier. */
export type DirQ = 'default' | 'src' | 'dst' | 'or' | 'and' | 'addr1' | 'addr2' | 'addr3' | 'addr4' | 'ra' | 'ta' | 'undef';
/** Address-type qualifier. */
export type AddrQ = 'default' | 'host' | 'net' | 'port' | 'portrange' | 'proto' | 'protochain' | 'gateway' | 'undef';

/** The qualifiers in force for an identifier. */
export interface Qual {
  proto: ProtoQ;
  dir: DirQ;
  addr: AddrQ;
}

/** Qualifiers after a term that cannot lend them (libpcap's `qerr`). */
export const QERR: Qual = { proto: 'undef', dir: 'undef', addr: 'undef' };

export interface Span {
  pos: number;
  end: number;
}

/** The identifier part of a primitive. */
export type IdVal =
  | ({ k: 'num'; v: number } & Span)
  | ({ k: 'name'; s: string } & Span)
  | ({ k: 'hid'; s: string } & Span)
  | ({ k: 'hidmask'; s: string; mask: string } & Span)
  | ({ k: 'hidlen'; s: string; len: number } & Span)
  | ({ k: 'hid6'; s: string; len: number; explicitLen: boolean } & Span)
  | ({ k: 'eid'; s: string } & Span);

/** Arithmetic operators of accessor expressions. */
export type ArithOp = '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>';
/** Relational operators. */
export type RelOp = '>' | '>=' | '=' | '<=' | '<' | '!=';

export type Arth =
  | ({ k: 'num'; v: number } & Span)
  | ({ k: 'len' } & Span)
  | ({ k: 'load'; proto: ProtoQ; index: Arth; size: number } & Span)
  | ({ k: 'bin'; op: ArithOp; l: Arth; r: Arth } & Span)
  | ({ k: 'neg'; e: Arth } & Span);

export type Expr =
  | ({ k: 'and' | 'or'; l: Expr; r: Expr } & Span)
  | ({ k: 'not'; e: Expr } & Span)
  | ({ k: 'prim'; q: Qual; id: IdVal } & Span)
  | ({ k: 'abbrev'; proto: ProtoQ } & Span)
  | ({ k: 'rel'; op: RelOp; l: Arth; r: Arth } & Span)
  | ({ k: 'bcast' | 'mcast'; proto: ProtoQ } & Span)
  | ({ k: 'less' | 'greater'; n: number } & Span)
  | ({ k: 'byte'; idx: number; op: string; val: number } & Span)
  | ({ k: 'vlan' | 'mpls' | 'pppoes' | 'geneve'; n: number | null } & Span)
  | ({ k: 'pppoed' | 'inbound' | 'outbound' | 'llc' } & Span)
  /** `llc i|s|u` (frame format) or an S/U command name (`rr`, `ui`, ...): `sub` is the name as written. */
  | ({ k: 'llcsub'; sub: string } & Span)
  | ({ k: 'ifindex'; n: number } & Span)
  | ({ k: 'unsupported'; what: string } & Span);
