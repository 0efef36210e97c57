/**
 * Text syntax of the combinator language (pfq-lang style):
 *
 *     ip >-> udp >-> when (has_port 53) (inc dns) >-> steer_flow
 *     filter "tcp port 80 and host 10.0.0.1" >-> count web
 *     conditional (ip_ttl < 64) (mark 1) drop
 *
 * Grammar (loosest first): `>->` composition; `||`; `&&` and `^^`;
 * comparisons (`<`, `<=`, `==`, `!=`/`/=`, `>`, `>=`, also `.<` etc.);
 * `not`; function application by juxtaposition; atoms: names, numbers,
 * "strings" (tcpdump expressions), addresses/CIDRs, parentheses.
 * `--` and `#` start comments.
 *
 * Every name is type-checked against the vocabulary; errors carry the
 * position of the offending text.
 */
import { LangError } from '../errors.js';
import type { CmpOp, Fn, Loc, PPred } from './ast.js';
import { BUILTINS, compare, filterPred, REFUSED, type ParamType, type Value } from './vocab.js';

type Tok =
  | { k: 'id'; s: string; pos: number; end: number }
  | { k: 'num'; v: number; pos: number; end: number }
  | { k: 'str'; s: string; pos: number; end: number; raw: number }
  | { k: 'cidr'; s: string; pos: number; end: number }
  | { k: 'op'; s: string; pos: number; end: number }
  | { k: 'eof'; pos: number; end: number };

const OPS = ['>->', '.&&.', '.||.', '.^^.', './=', '.<=', '.>=', '.==', '&&', '||', '^^', '<=', '>=', '==', '!=', '/=', '.<', '.>', '<', '>', '=', '(', ')'];

function lexPfq(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const err = (msg: string, p: number, e = p + 1): never => {
    throw new LangError(msg, src, p, e);
  };
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#' || src.startsWith('--', i)) {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length && (src[j + 1] === c || src[j + 1] === '\\')) j++;
        s += src[j++];
      }
      if (j >= src.length) err('unterminated string', i, src.length);
      out.push({ k: 'str', s, pos: i, end: j + 1, raw: i + 1 });
      i = j + 1;
      continue;
    }
    const addr = /^[0-9A-Fa-f:.]+(\/[0-9]+)?/.exec(src.slice(i));
    if (addr && (/^\d+\.\d+/.test(addr[0]) || (addr[0].match(/:/g) ?? []).length >= 2)) {
      out.push({ k: 'cidr', s: addr[0], pos: i, end: i + addr[0].length });
      i += addr[0].length;
      continue;
    }
    const num = /^(0[xX][0-9A-Fa-f]+|[0-9]+)(?![A-Za-z_])/.exec(src.slice(i));
    if (num) {
      out.push({ k: 'num', v: Number(num[0]), pos: i, end: i + num[0].length });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_'-]*/.exec(src.slice(i));
    if (id) {
      let s = id[0];
      while (s.endsWith('-')) s = s.slice(0, -1);
      out.push({ k: 'id', s, pos: i, end: i + s.length });
      i += s.length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ k: 'op', s: op, pos: i, end: i + op.length });
      i += op.length;
      continue;
    }
    err(`unexpected character '${c}'`, i);
  }
  out.push({ k: 'eof', pos: src.length, end: src.length });
  return out;
}

type Node =
  | { k: 'id'; s: string; loc: Loc }
  | { k: 'num'; v: number; loc: Loc }
  | { k: 'str'; s: string; raw: number; loc: Loc }
  | { k: 'cidr'; s: string; loc: Loc }
  | { k: 'app'; head: Extract<Node, { k: 'id' }>; args: Node[]; loc: Loc }
  | { k: 'pipe'; items: Node[]; loc: Loc }
  | { k: 'bin'; op: 'and' | 'or' | 'xor'; a: Node; b: Node; loc: Loc }
  | { k: 'not'; a: Node; loc: Loc }
  | { k: 'cmp'; op: CmpOp; a: Node; b: Node; loc: Loc };

const CMP: Record<string, CmpOp> = {
  '<': '<', '.<': '<', '<=': '<=', '.<=': '<=', '==': '==', '.==': '==', '=': '==', '!=': '!=', '/=': '!=', './=': '!=', '>': '>', '.>': '>', '>=': '>=', '.>=': '>=',
};

class Parser {
  private i = 0;
  constructor(
    private src: string,
    private toks: Tok[],
  ) {}
  private peek(): Tok {
    return this.toks[this.i];
  }
  private isOp(...ops: string[]): boolean {
    const t = this.peek();
    return t.k === 'op' && ops.includes(t.s);
  }
  private err(msg: string, t: { pos: number; end: number } = this.peek()): never {
    throw new LangError(msg, this.src, t.pos, Math.max(t.end, t.pos + 1));
  }
  private describe(t: Tok): string {
    switch (t.k) {
      case 'eof':
        return 'end of program';
      case 'id':
        return `'${t.s}'`;
      case 'num':
        return `number ${t.v}`;
      case 'str':
        return 'a string';
      case 'cidr':
        return `'${t.s}'`;
      case 'op':
        return `'${t.s}'`;
    }
  }

  program(): Node {
    const n = this.pipe();
    if (this.peek().k !== 'eof') this.err(`expected '>->' or end of program; found ${this.describe(this.peek())}`);
    return n;
  }
  private pipe(): Node {
    const first = this.or();
    const items = [first];
    while (this.isOp('>->')) {
      this.i++;
      items.push(this.or());
    }
    return items.length === 1 ? first : { k: 'pipe', items, loc: { pos: first.loc.pos, end: items[items.length - 1].loc.end } };
  }
  private or(): Node {
    let a = this.and();
    while (this.isOp('||', '.||.')) {
      this.i++;
      const b = this.and();
      a = { k: 'bin', op: 'or', a, b, loc: { pos: a.loc.pos, end: b.loc.end } };
    }
    return a;
  }
  private and(): Node {
    let a = this.cmp();
    while (this.isOp('&&', '.&&.', '^^', '.^^.')) {
      const op = (this.peek() as { s: string }).s.includes('^') ? 'xor' : 'and';
      this.i++;
      const b = this.cmp();
      a = { k: 'bin', op, a, b, loc: { pos: a.loc.pos, end: b.loc.end } };
    }
    return a;
  }
  private cmp(): Node {
    const a = this.unary();
    const t = this.peek();
    if (t.k === 'op' && t.s in CMP) {
      this.i++;
      const b = this.unary();
      return { k: 'cmp', op: CMP[t.s], a, b, loc: { pos: a.loc.pos, end: b.loc.end } };
    }
    return a;
  }
  private unary(): Node {
    const t = this.peek();
    if (t.k === 'id' && (t.s === 'not' || t.s === "not'")) {
      this.i++;
      const a = this.unary();
      return { k: 'not', a, loc: { pos: t.pos, end: a.loc.end } };
    }
    return this.app();
  }
  private startsAtom(): boolean {
    const t = this.peek();
    return t.k === 'id' ? t.s !== 'not' && t.s !== "not'" : t.k === 'num' || t.k === 'str' || t.k === 'cidr' || this.isOp('(');
  }
  private app(): Node {
    const head = this.atom();
    if (head.k !== 'id') return head;
    const args: Node[] = [];
    while (this.startsAtom()) args.push(this.atom());
    if (args.length === 0) return head;
    return { k: 'app', head, args, loc: { pos: head.loc.pos, end: args[args.length - 1].loc.end } };
  }
  private atom(): Node {
    const t = this.peek();
    switch (t.k) {
      case 'id':
        this.i++;
        return { k: 'id', s: t.s, loc: t };
      case 'num':
        this.i++;
        return { k: 'num', v: t.v, loc: t };
      case 'str':
        this.i++;
        return { k: 'str', s: t.s, raw: t.raw, loc: t };
      case 'cidr':
        this.i++;
        return { k: 'cidr', s: t.s, loc: t };
      default:
        if (this.isOp('(')) {
          this.i++;
          const n = this.pipe();
          if (!this.isOp(')')) this.err(`expected ')'; found ${this.describe(this.peek())}`);
          const close = this.peek();
          this.i++;
          return { ...n, loc: { pos: t.pos, end: close.end } } as Node;
        }
        return this.err(`expected a name, number, string or '('; found ${this.describe(t)}`);
    }
  }
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

const TYPE_NAME: Record<string, string> = {
  pred: 'a predicate', prop: 'a property', fn: 'a function', int: 'a number', str: 'a string', cidr: 'an address or CIDR', name: 'a name', fns: 'functions',
};

class Evaluator {
  constructor(private src: string) {}

  private err(msg: string, loc: Loc): never {
    throw new LangError(msg, this.src, loc.pos, loc.end);
  }

  private builtin(id: Extract<Node, { k: 'id' }>): NonNullable<ReturnType<typeof BUILTINS.get>> {
    const b = BUILTINS.get(id.s);
    if (b) return b;
    if (id.s in REFUSED) this.err(`'${id.s}' is refused: ${REFUSED[id.s]}`, id.loc);
    let best = '';
    let bestD = 99;
    for (const name of BUILTINS.keys()) {
      const dd = levenshtein(id.s, name);
      if (dd < bestD) {
        bestD = dd;
        best = name;
      }
    }
    return this.err(`unknown name '${id.s}'${bestD <= 3 ? ` (did you mean '${best}'?)` : ''}`, id.loc);
  }

  private typeOf(v: Value): string {
    return TYPE_NAME[v.t];
  }

  /** Evaluate `n`, coercing to `want` when given. */
  eval(n: Node, want?: ParamType): Value {
    const v = this.evalRaw(n, want);
    if (!want) return v;
    if (v.t === want) return v;
    if (want === 'pred' && v.t === 'str') return { t: 'pred', v: this.pcap(v.v, n) };
    if (want === 'fn' && v.t === 'pred') return { t: 'fn', v: { k: 'filter', p: v.v } };
    if (want === 'pred' && v.t === 'fn') {
      const p = filterPred(v.v);
      if (p) return { t: 'pred', v: p };
    }
    if (want === 'fn' && v.t === 'str') return { t: 'fn', v: { k: 'filter', p: this.pcap(v.v, n) } };
    if (want === 'name' && (v.t === 'str' || v.t === 'int')) return { t: 'name', v: String(v.v) };
    if (want === 'cidr' && v.t === 'int') return { t: 'cidr', v: String(v.v) };
    return this.err(`expected ${TYPE_NAME[want]}, but this is ${this.typeOf(v)}`, n.loc);
  }

  private pcap(text: string, n: Node): PPred {
    const loc = n.k === 'str' ? { pos: n.raw, end: n.raw + text.length } : n.loc;
    return { k: 'pcap', text, loc };
  }

  private evalRaw(n: Node, want?: ParamType): Value {
    switch (n.k) {
      case 'num':
        return { t: 'int', v: n.v };
      case 'str':
        return want === 'pred' || want === 'fn' ? { t: 'pred', v: this.pcap(n.s, n) } : { t: 'str', v: n.s };
      case 'cidr':
        return { t: 'cidr', v: n.s };
      case 'id': {
        if (want === 'name') return { t: 'name', v: n.s };
        const b = this.builtin(n);
        if (b.params.length > 0) this.err(`'${n.s}' needs ${b.params.length} argument${b.params.length > 1 ? 's' : ''} (${b.params.map((p) => TYPE_NAME[p]).join(', ')})`, n.loc);
        return this.withLoc(b.make([]), n.loc);
      }
      case 'app': {
        const b = this.builtin(n.head);
        if (b.params.length === 1 && b.params[0] === 'fns') {
          const fns = n.args.map((a) => this.eval(a, 'fn').v as Fn);
          return this.call(b, [{ t: 'fns', v: fns }], n.loc);
        }
        if (n.args.length !== b.params.length) {
          const extra = n.args[b.params.length];
          this.err(
            `'${b.name}' takes ${b.params.length} argument${b.params.length === 1 ? '' : 's'} (${b.params.map((p) => TYPE_NAME[p]).join(', ') || 'none'}), got ${n.args.length}`,
            extra ? extra.loc : n.loc,
          );
        }
        const args = n.args.map((a, i) => this.eval(a, b.params[i]));
        return this.call(b, args, n.loc);
      }
      case 'pipe': {
        const fs = n.items.map((x) => this.eval(x, 'fn').v as Fn);
        return { t: 'fn', v: { k: 'seq', fs } };
      }
      case 'bin': {
        const a = this.eval(n.a, 'pred').v as PPred;
        const b = this.eval(n.b, 'pred').v as PPred;
        return { t: 'pred', v: { k: n.op, a, b } };
      }
      case 'not':
        return { t: 'pred', v: { k: 'not', a: this.eval(n.a, 'pred').v as PPred } };
      case 'cmp': {
        let a = this.evalRaw(n.a);
        let b = this.evalRaw(n.b);
        let op = n.op;
        if (a.t === 'int' && b.t === 'prop') {
          [a, b] = [b, a];
          const flip: Record<CmpOp, CmpOp> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' };
          op = flip[op];
        }
        if (a.t !== 'prop') this.err(`a comparison needs a property (such as ip_ttl) on one side, not ${this.typeOf(a)}`, n.a.loc);
        if (b.t !== 'int') this.err(`a property is compared with a number, not ${this.typeOf(b)}`, n.b.loc);
        return { t: 'pred', v: this.locPred(compare(a.v, op, b.v), n.loc) };
      }
    }
  }

  private call(b: NonNullable<ReturnType<typeof BUILTINS.get>>, args: Value[], loc: Loc): Value {
    try {
      return this.withLoc(b.make(args), loc);
    } catch (e) {
      if (e instanceof TypeError) this.err(e.message, loc);
      throw e;
    }
  }

  private locPred(p: PPred, loc: Loc): PPred {
    return p.k === 'pcap' && !p.loc ? { ...p, loc } : p;
  }

  /** Attach the source location to values built from builtins (for error messages). */
  private withLoc(v: Value, loc: Loc): Value {
    if (v.t === 'pred') return { t: 'pred', v: this.locPred(v.v, loc) };
    if (v.t === 'fn' && (v.v.k === 'filter' || v.v.k === 'steer' || v.v.k === 'act' || v.v.k === 'when' || v.v.k === 'cond')) {
      const f = v.v;
      const withP = f.k === 'filter' ? { ...f, p: this.locPred(f.p, loc), loc } : { ...f, loc };
      return { t: 'fn', v: withP };
    }
    return v;
  }
}

/** Parse a combinator program; a bare predicate is a filter. */
export function parsePfq(src: string): Fn {
  const node = new Parser(src, lexPfq(src)).program();
  const v = new Evaluator(src).eval(node, 'fn');
  return v.v as Fn;
}
