/**
 * Parser for pcap-filter expressions, a recursive-descent rendering of
 * libpcap's yacc grammar (grammar.y) with its quirks:
 *
 * - `and` and `or` have the same precedence and associate to the left
 *   (`a or b and c` is `(a or b) and c`);
 * - after `and`/`or` a bare identifier reuses the qualifiers of the term
 *   before it (`host 1.1.1.1 or 2.2.2.2`, `port 53 or 80`);
 * - in accessor arithmetic `%` and `^` have no precedence, so (like yacc's
 *   default shift) they take everything to their right: `a * b % c` is
 *   `a * (b % c)`.
 *
 * Syntax errors point at the furthest token reached and list what was
 * expected there.
 */
import { LangError } from '../errors.js';
import type { ArithOp, Arth, DirQ, Expr, IdVal, Qual, RelOp } from './ast.js';
import { QERR } from './ast.js';
import { lex, type Token } from './lexer.js';

/** Protocol keywords usable as qualifiers (`pname` in grammar.y). */
const PNAMES = new Set([
  'link', 'ip', 'arp', 'rarp', 'sctp', 'tcp', 'udp', 'icmp', 'igmp', 'igrp', 'pim', 'vrrp', 'carp',
  'atalk', 'aarp', 'decnet', 'lat', 'sca', 'mopdl', 'moprc', 'ip6', 'icmp6', 'ah', 'esp', 'iso',
  'esis', 'isis', 'l1', 'l2', 'iih', 'lsp', 'snp', 'psnp', 'csnp', 'clnp', 'stp', 'ipx', 'netbeui',
  'radio',
]);
const DIRS = new Set(['src', 'dst', 'addr1', 'addr2', 'addr3', 'addr4', 'ra', 'ta']);
const AQUALS = new Set(['host', 'net', 'port', 'portrange']);
const RELOPS = new Set(['>', '>=', '=', '<=', '<', '!=']);
/** yacc precedence of binary arithmetic operators; 0 = none declared. */
const PREC: Record<string, number> = { '|': 1, '&': 2, '<<': 3, '>>': 3, '+': 4, '-': 4, '*': 5, '/': 5, '%': 0, '^': 0 };
const UMINUS = 6;
const UNSUPPORTED_KW = new Set([
  'lane', 'metac', 'bcc', 'oam', 'oamf4', 'oamf4ec', 'oamf4sc', 'sc', 'ilmic', 'vpi', 'vci',
  'connectmsg', 'metaconnect', 'ifname', 'rset', 'rnr', 'srnr', 'reason', 'action', 'fisu', 'lssu',
  'msu', 'hfisu', 'hlssu', 'hmsu', 'sio', 'opc', 'dpc', 'sls', 'hsio', 'hopc', 'hdpc', 'hsls',
  'type', 'subtype', 'dir',
]);

class Fail extends Error {}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of expression';
    case 'kw':
      return `'${t.text}'`;
    case 'num':
      return `number ${t.text}`;
    case 'op':
      return `'${t.text}'`;
    default:
      return `'${t.text}'`;
  }
}

/** Parse a pcap-filter expression. Returns null for an empty expression (match everything). */
export function parsePcap(src: string): Expr | null {
  return new Parser(src).program();
}

class Parser {
  private toks: Token[];
  private i = 0;
  private far = 0;
  private expected = new Set<string>();

  constructor(private src: string) {
    this.toks = lex(src);
  }

  program(): Expr | null {
    if (this.peek().kind === 'eof') return null;
    try {
      const r = this.expr(QERR);
      if (this.peek().kind !== 'eof') this.fail("'and', 'or' or end of expression");
      return r.e;
    } catch (e) {
      if (e instanceof Fail) throw this.syntaxError();
      throw e;
    }
  }

  private syntaxError(): LangError {
    const t = this.toks[this.far];
    const exp = [...this.expected];
    const list = exp.length <= 1 ? exp.join('') : `one of: ${exp.join('; ')}`;
    return new LangError(`syntax error: expected ${list}; found ${describe(t)}`, this.src, t.pos, Math.max(t.end, t.pos + 1));
  }

  private peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)];
  }

  private next(): Token {
    return this.toks[this.i++];
  }

  private isKw(t: Token, ...names: string[]): boolean {
    return t.kind === 'kw' && names.includes(t.text);
  }

  private isOp(t: Token, ...ops: string[]): boolean {
    return t.kind === 'op' && ops.includes(t.text);
  }

  private fail(what: string): never {
    if (this.i > this.far) {
      this.far = this.i;
      this.expected = new Set();
    }
    if (this.i === this.far) this.expected.add(what);
    throw new Fail(what);
  }

  /** `/LEN` after an address: the length token, or null when no `/` follows. */
  private prefixLength(): Token | null {
    if (!this.isOp(this.peek(), '/')) return null;
    this.next();
    const n = this.peek();
    if (n.kind !== 'num') this.fail('a prefix length');
    return this.next();
  }

  private expectOp(op: string): Token {
    if (!this.isOp(this.peek(), op)) this.fail(`'${op}'`);
    return this.next();
  }

  private attempt<T>(fn: () => T): T | null {
    const save = this.i;
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
      this.i = save;
      return null;
    }
  }

  private span(start: Token): { pos: number; end: number } {
    return { pos: start.pos, end: this.toks[Math.max(this.i - 1, 0)].end };
  }

  // expr: term | expr (and|or) (term | id)
  private expr(ctx: Qual): { e: Expr; q: Qual } {
    const start = this.peek();
    let { e, q } = this.term(ctx);
    while (this.isKw(this.peek(), 'and', 'or')) {
      const op = this.next().text as 'and' | 'or';
      const qq = q;
      let r = this.attempt(() => {
        const id = this.id(qq);
        const t = this.peek();
        if (!(this.isKw(t, 'and', 'or') || this.isOp(t, ')') || t.kind === 'eof')) this.fail("'and', 'or', ')' or end of expression");
        return id;
      });
      if (!r) r = this.term(q);
      e = { k: op, l: e, r: r.e, ...this.span(start) };
      q = r.q;
    }
    return { e, q };
  }

  // id: nid | pnum | '(' pid ')'
  private id(q: Qual): { e: Expr; q: Qual } {
    const t = this.peek();
    if (t.kind === 'num' || this.isOp(t, '(')) {
      const n = this.attempt(() => this.pnum());
      if (n) return { e: { k: 'prim', q, id: { k: 'num', v: n.v, pos: n.pos, end: n.end }, pos: n.pos, end: n.end }, q };
    }
    if (this.isOp(t, '(')) {
      this.next();
      const r = this.pid(q);
      this.expectOp(')');
      return r;
    }
    return this.nid(q);
  }

  // pid: nid | qid (and|or) id ; qid: pnum | pid
  private pid(q: Qual): { e: Expr; q: Qual } {
    const start = this.peek();
    let first: Expr;
    const n = this.attempt(() => {
      const v = this.pnum();
      if (!this.isKw(this.peek(), 'and', 'or')) this.fail("'and' or 'or'");
      return v;
    });
    if (n) first = { k: 'prim', q, id: { k: 'num', v: n.v, pos: n.pos, end: n.end }, pos: n.pos, end: n.end };
    else first = this.nid(q).e;
    let e = first;
    while (this.isKw(this.peek(), 'and', 'or')) {
      const op = this.next().text as 'and' | 'or';
      const r = this.id(q);
      e = { k: op, l: e, r: r.e, ...this.span(start) };
    }
    return { e, q };
  }

  // nid: ID | HID '/' NUM | HID mask HID | HID | HID6 ['/' NUM] | EID | not id
  private nid(q: Qual): { e: Expr; q: Qual } {
    const t = this.peek();
    const prim = (id: IdVal): { e: Expr; q: Qual } => ({ e: { k: 'prim', q, id, pos: id.pos, end: id.end }, q });
    if (this.isKw(t, 'not') || this.isOp(t, '!')) {
      this.next();
      const r = this.id(q);
      return { e: { k: 'not', e: r.e, pos: t.pos, end: r.e.end }, q: r.q };
    }
    switch (t.kind) {
      case 'id':
        this.next();
        return prim({ k: 'name', s: t.text, pos: t.pos, end: t.end });
      case 'hid': {
        this.next();
        const n = this.prefixLength();
        if (n !== null) return prim({ k: 'hidlen', s: t.text, len: n.value, pos: t.pos, end: n.end });
        if (this.isKw(this.peek(), 'mask')) {
          this.next();
          const m = this.peek();
          if (m.kind !== 'hid') this.fail('a netmask such as 255.255.0.0');
          this.next();
          return prim({ k: 'hidmask', s: t.text, mask: m.text, pos: t.pos, end: m.end });
        }
        return prim({ k: 'hid', s: t.text, pos: t.pos, end: t.end });
      }
      case 'hid6': {
        this.next();
        const n = this.prefixLength();
        if (n !== null) return prim({ k: 'hid6', s: t.text, len: n.value, explicitLen: true, pos: t.pos, end: n.end });
        return prim({ k: 'hid6', s: t.text, len: 128, explicitLen: false, pos: t.pos, end: t.end });
      }
      case 'eid':
        this.next();
        return prim({ k: 'eid', s: t.text, pos: t.pos, end: t.end });
      default:
        this.fail('an address, port, number or name');
    }
  }

  // pnum: NUM | '(' pnum ')'
  private pnum(): { v: number; pos: number; end: number } {
    const t = this.peek();
    if (t.kind === 'num') {
      this.next();
      return { v: t.value, pos: t.pos, end: t.end };
    }
    if (this.isOp(t, '(')) {
      this.next();
      const v = this.pnum();
      const c = this.expectOp(')');
      return { v: v.v, pos: t.pos, end: c.end };
    }
    this.fail('a number');
  }

  // term: rterm | not term
  private term(ctx: Qual): { e: Expr; q: Qual } {
    const t = this.peek();
    if (this.isKw(t, 'not') || this.isOp(t, '!')) {
      this.next();
      const r = this.term(ctx);
      return { e: { k: 'not', e: r.e, pos: t.pos, end: r.e.end }, q: r.q };
    }
    return this.rterm(ctx);
  }

  private rterm(ctx: Qual): { e: Expr; q: Qual } {
    const t = this.peek();
    if (this.isOp(t, '(')) {
      const r = this.attempt(() => {
        this.next();
        const inner = this.expr(ctx);
        const c = this.expectOp(')');
        if (this.isRelOrArith(this.peek())) this.fail('a relational operator');
        return { e: { ...inner.e }, q: ctx, end: c.end };
      });
      if (r) return { e: r.e, q: r.q };
      return { e: this.relation(), q: QERR };
    }
    if (t.kind === 'kw') {
      const kw = t.text;
      if (PNAMES.has(kw)) {
        const n1 = this.peek(1);
        if (n1.kind === 'kw' && (DIRS.has(n1.text) || AQUALS.has(n1.text) || ['proto', 'protochain', 'gateway'].includes(n1.text))) {
          return this.head();
        }
        if (this.isKw(n1, 'broadcast', 'multicast')) {
          this.next();
          this.next();
          return { e: { k: n1.text === 'broadcast' ? 'bcast' : 'mcast', proto: kw, ...this.span(t) }, q: QERR };
        }
        if (this.isOp(n1, '[')) return { e: this.relation(), q: QERR };
        this.next();
        return { e: { k: 'abbrev', proto: kw, pos: t.pos, end: t.end }, q: QERR };
      }
      if (DIRS.has(kw) || AQUALS.has(kw) || ['proto', 'protochain', 'gateway'].includes(kw)) return this.head();
      if (kw === 'broadcast' || kw === 'multicast') {
        this.next();
        return { e: { k: kw === 'broadcast' ? 'bcast' : 'mcast', proto: 'default', pos: t.pos, end: t.end }, q: QERR };
      }
      if (kw === 'less' || kw === 'greater') {
        this.next();
        const n = this.peek();
        if (n.kind !== 'num') this.fail('a length');
        this.next();
        return { e: { k: kw, n: n.value, ...this.span(t) }, q: QERR };
      }
      if (kw === 'byte') {
        this.next();
        const idx = this.peek();
        if (idx.kind !== 'num') this.fail('a byte offset');
        this.next();
        const op = this.peek();
        if (!this.isOp(op, '&', '|', '<', '>', '=')) this.fail("one of '&', '|', '<', '>', '='");
        this.next();
        const v = this.peek();
        if (v.kind !== 'num') this.fail('a number');
        this.next();
        return { e: { k: 'byte', idx: idx.value, op: op.text, val: v.value, ...this.span(t) }, q: QERR };
      }
      if (kw === 'vlan' || kw === 'mpls' || kw === 'pppoes' || kw === 'geneve') {
        this.next();
        const n = this.attempt(() => this.pnum());
        return { e: { k: kw, n: n ? n.v : null, ...this.span(t) }, q: QERR };
      }
      if (kw === 'pppoed' || kw === 'inbound' || kw === 'outbound') {
        this.next();
        return { e: { k: kw, pos: t.pos, end: t.end }, q: QERR };
      }
      if (kw === 'llc') {
        this.next();
        if (this.peek().kind === 'id' || this.isKw(this.peek(), 'rnr')) {
          const sub = this.next();
          return { e: { k: 'llcsub', sub: sub.kind === 'kw' ? 'rnr' : sub.text, ...this.span(t) }, q: QERR };
        }
        return { e: { k: 'llc', pos: t.pos, end: t.end }, q: QERR };
      }
      if (kw === 'ifindex') {
        this.next();
        const n = this.peek();
        if (n.kind !== 'num') this.fail('an interface index');
        this.next();
        return { e: { k: 'ifindex', n: n.value, ...this.span(t) }, q: QERR };
      }
      if (kw === 'len') return { e: this.relation(), q: QERR };
      if (UNSUPPORTED_KW.has(kw)) {
        // Consume the keyword and an optional operand so the error can name the primitive.
        this.next();
        return { e: { k: 'unsupported', what: `'${kw}'`, pos: t.pos, end: t.end }, q: QERR };
      }
    }
    if (t.kind === 'num' || this.isOp(t, '-')) return { e: this.relation(), q: QERR };
    this.fail('a primitive (such as host, net, port, ip, tcp, vlan) or an expression');
  }

  private isRelOrArith(t: Token): boolean {
    return t.kind === 'op' && (RELOPS.has(t.text) || t.text in PREC);
  }

  // head id
  private head(): { e: Expr; q: Qual } {
    const start = this.peek();
    let proto = 'default';
    let dir: DirQ = 'default';
    let addr: Qual['addr'] = 'default';
    if (start.kind === 'kw' && PNAMES.has(start.text)) {
      proto = start.text;
      this.next();
    }
    const t = this.peek();
    if (this.isKw(t, 'proto', 'protochain', 'gateway')) {
      this.next();
      addr = t.text as Qual['addr'];
    } else {
      if (t.kind === 'kw' && DIRS.has(t.text)) {
        this.next();
        dir = t.text as DirQ;
        if ((dir === 'src' || dir === 'dst') && this.isKw(this.peek(), 'and', 'or')) {
          const other = dir === 'src' ? 'dst' : 'src';
          if (this.isKw(this.peek(1), other)) {
            dir = this.next().text as 'and' | 'or';
            this.next();
          }
        }
      }
      const a = this.peek();
      if (a.kind === 'kw' && AQUALS.has(a.text)) {
        this.next();
        addr = a.text as Qual['addr'];
      } else if (dir === 'default') {
        this.fail("'host', 'net', 'port', 'portrange', 'proto' or 'protochain'");
      }
    }
    const q: Qual = { proto, dir, addr };
    const r = this.id(q);
    return { e: r.e, q };
  }

  // arth relop arth
  private relation(): Expr {
    const start = this.peek();
    const l = this.arith();
    const op = this.peek();
    if (!(op.kind === 'op' && RELOPS.has(op.text))) this.fail("a relational operator ('=', '!=', '<', '<=', '>', '>=')");
    this.next();
    const r = this.arith();
    return { k: 'rel', op: op.text as RelOp, l, r, ...this.span(start) };
  }

  /** Arithmetic with yacc's precedence resolution (undeclared `%` and `^` always shift). */
  private arith(): Arth {
    const operands: Arth[] = [];
    const ops: Array<{ op: string; prec: number; unary: boolean; pos: number }> = [];
    const reduce = (): void => {
      const o = ops.pop()!;
      if (o.unary) {
        const e = operands.pop()!;
        operands.push({ k: 'neg', e, pos: o.pos, end: e.end });
      } else {
        const r = operands.pop()!;
        const l = operands.pop()!;
        operands.push({ k: 'bin', op: o.op as ArithOp, l, r, pos: l.pos, end: r.end });
      }
    };
    for (;;) {
      // operand (with any prefix minus signs)
      while (this.isOp(this.peek(), '-')) {
        const m = this.next();
        ops.push({ op: '-', prec: UMINUS, unary: true, pos: m.pos });
      }
      operands.push(this.arithPrimary());
      const t = this.peek();
      if (!(t.kind === 'op' && t.text in PREC)) break;
      const prec = PREC[t.text];
      while (ops.length > 0) {
        const top = ops[ops.length - 1];
        if (top.prec > 0 && prec > 0 && top.prec >= prec) reduce();
        else break;
      }
      this.next();
      ops.push({ op: t.text, prec, unary: false, pos: t.pos });
    }
    while (ops.length > 0) reduce();
    return operands[0];
  }

  private arithPrimary(): Arth {
    const t = this.peek();
    if (t.kind === 'num') {
      this.next();
      return { k: 'num', v: t.value, pos: t.pos, end: t.end };
    }
    if (this.isKw(t, 'len')) {
      this.next();
      return { k: 'len', pos: t.pos, end: t.end };
    }
    if (this.isOp(t, '(')) {
      this.next();
      const e = this.arith();
      const c = this.expectOp(')');
      return { ...e, pos: t.pos, end: c.end };
    }
    if (t.kind === 'kw' && PNAMES.has(t.text) && this.isOp(this.peek(1), '[')) {
      this.next();
      this.next();
      const index = this.arith();
      let size = 1;
      if (this.isOp(this.peek(), ':')) {
        this.next();
        const n = this.peek();
        if (n.kind !== 'num') this.fail('a size (1, 2 or 4)');
        this.next();
        size = n.value;
      }
      const c = this.expectOp(']');
      return { k: 'load', proto: t.text, index, size, pos: t.pos, end: c.end };
    }
    this.fail("a number, 'len' or an accessor such as ip[0] or tcp[13]");
  }
}
