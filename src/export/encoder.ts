/**
 * IPFIX (RFC 7011) and NetFlow v9 (RFC 3954) message encoder: turns flow
 * records into MTU-sized messages, with template sets at the start and again
 * on a timer and a message count (UDP collectors may start late or restart),
 * per-observation-domain sequence numbers, IPv4 and IPv6 templates.
 */
import type { RecordBuffer } from '../flow/record.js';
import { FlowRow, fillRow, rowsOf } from './row.js';
import { ipfixFields, netflow9Fields, recordLength, type Field } from './fields.js';

/** Export protocol. */
export type ExportFormat = 'ipfix' | 'netflow9';

/** Encoder settings. */
export interface EncoderOptions {
  format?: ExportFormat;
  /** RFC 5103 biflow records (IPFIX only; default true). False: one record per direction. */
  biflow?: boolean;
  /** Largest message in bytes (default 1400: fits a 1500-byte MTU with IPv6 and UDP headers). */
  maxMessage?: number;
  /** Observation domain (NetFlow v9 source id) of worker 0; worker i uses domain + i (default 1). */
  domain?: number;
  /** Resend templates after this many seconds (default 30; 0 = only at start/reconnect). */
  templateRefreshSeconds?: number;
  /** ... or after this many messages (default 100; 0 = never by count). */
  templateRefreshMessages?: number;
  /** Clock in ms since the epoch for export time (default Date.now; file replay passes packet time). */
  clock?: () => number;
}

const TEMPLATE_V4 = 256;
const TEMPLATE_V6 = 257;

interface Template { id: number; fields: Field[]; length: number }

interface DomainState { seq: number; messagesSinceTemplates: number; templatesAt: number; sentTemplates: boolean }

export class MessageEncoder {
  readonly format: ExportFormat;
  readonly biflow: boolean;
  readonly maxMessage: number;
  readonly baseDomain: number;
  /** Messages produced. */
  messages = 0;
  /** Data records encoded. */
  records = 0;
  /** Template sets sent. */
  templateSends = 0;
  private readonly refreshMs: number;
  private readonly refreshMessages: number;
  private readonly clock: () => number;
  private readonly v4: Template;
  private readonly v6: Template;
  private readonly domains = new Map<number, DomainState>();
  private readonly row = new FlowRow();
  private bootMs = -1;
  // message being built
  private buf: Uint8Array;
  private dv: DataView;
  private pos = 0;
  private setStart = -1;
  private setId = -1;
  private msgRecords = 0; // data records in the message (IPFIX sequence, v9 count)
  private msgCountV9 = 0;
  private msgDomain = -1;

  constructor(opts: EncoderOptions = {}) {
    this.format = opts.format ?? 'ipfix';
    this.biflow = this.format === 'ipfix' && (opts.biflow ?? true);
    this.maxMessage = opts.maxMessage ?? 1400;
    if (this.maxMessage < 256 || this.maxMessage > 65535) throw new RangeError(`maxMessage must be in 256..65535 (got ${this.maxMessage})`);
    this.baseDomain = opts.domain ?? 1;
    this.refreshMs = (opts.templateRefreshSeconds ?? 30) * 1000;
    this.refreshMessages = opts.templateRefreshMessages ?? 100;
    this.clock = opts.clock ?? Date.now;
    const boot = (): number => this.bootMs;
    const mk = (id: number, fields: Field[]): Template => ({ id, fields, length: recordLength(fields) });
    if (this.format === 'ipfix') {
      this.v4 = mk(TEMPLATE_V4, ipfixFields(false, this.biflow));
      this.v6 = mk(TEMPLATE_V6, ipfixFields(true, this.biflow));
    } else {
      this.v4 = mk(TEMPLATE_V4, netflow9Fields(false, boot));
      this.v6 = mk(TEMPLATE_V6, netflow9Fields(true, boot));
    }
    this.buf = new Uint8Array(this.maxMessage);
    this.dv = new DataView(this.buf.buffer);
  }

  /** Forget which domains got templates (a TCP reconnect: send them first again). */
  resetTemplates(): void {
    for (const d of this.domains.values()) d.sentTemplates = false;
  }

  /** A message holding only the template sets, for each domain seen so far (sent first on a new TCP connection). */
  templateMessages(send: (msg: Uint8Array) => void): void {
    this.flush(send);
    const ids = this.domains.size > 0 ? [...this.domains.keys()] : [this.baseDomain];
    for (const id of ids) {
      const d = this.domain(id);
      d.sentTemplates = false;
      this.start(id);
      this.flush(send);
    }
  }

  /** Encode every record of `rb`; `send` gets each finished message (a fresh Uint8Array it may keep). */
  encode(rb: RecordBuffer, send: (msg: Uint8Array) => void): void {
    const row = this.row;
    for (let i = 0; i < rb.count; i++) {
      const parts = rowsOf(rb, i, this.biflow);
      for (let part = 0; part < parts; part++) {
        fillRow(row, rb, i, part as 0 | 1, this.biflow);
        this.add(row, send);
      }
    }
    this.flush(send);
  }

  /** Finish the message being built, if any, and hand it to `send`. */
  flush(send: (msg: Uint8Array) => void): void {
    if (this.msgDomain < 0) return;
    this.closeSet();
    const d = this.domain(this.msgDomain);
    const dv = this.dv;
    const now = this.clock();
    if (this.format === 'ipfix') {
      dv.setUint16(0, 10);
      dv.setUint16(2, this.pos);
      dv.setUint32(4, Math.floor(now / 1000) >>> 0);
      dv.setUint32(8, d.seq >>> 0);
      dv.setUint32(12, this.msgDomain >>> 0);
      d.seq = (d.seq + this.msgRecords) % 0x1_0000_0000;
    } else {
      dv.setUint16(0, 9);
      dv.setUint16(2, this.msgCountV9);
      dv.setUint32(4, Math.max(0, now - this.bootMs) >>> 0);
      dv.setUint32(8, Math.floor(now / 1000) >>> 0);
      dv.setUint32(12, d.seq >>> 0);
      dv.setUint32(16, this.msgDomain >>> 0);
      d.seq = (d.seq + 1) % 0x1_0000_0000;
    }
    d.messagesSinceTemplates++;
    this.messages++;
    const msg = this.buf.slice(0, this.pos);
    this.msgDomain = -1;
    this.pos = 0;
    send(msg);
  }

  private domain(id: number): DomainState {
    let d = this.domains.get(id);
    if (d === undefined) {
      d = { seq: 0, messagesSinceTemplates: 0, templatesAt: 0, sentTemplates: false };
      this.domains.set(id, d);
    }
    return d;
  }

  private headerLength(): number { return this.format === 'ipfix' ? 16 : 20; }

  private start(domainId: number): void {
    this.msgDomain = domainId;
    this.pos = this.headerLength();
    this.setStart = -1;
    this.setId = -1;
    this.msgRecords = 0;
    this.msgCountV9 = 0;
    const d = this.domain(domainId);
    const now = this.clock();
    if (this.bootMs < 0) this.bootMs = now - 1000;
    const due = !d.sentTemplates || (this.refreshMs > 0 && now - d.templatesAt >= this.refreshMs) ||
      (this.refreshMessages > 0 && d.messagesSinceTemplates >= this.refreshMessages);
    if (due) {
      this.writeTemplates();
      d.sentTemplates = true;
      d.templatesAt = now;
      d.messagesSinceTemplates = 0;
      this.templateSends++;
    }
  }

  private writeTemplates(): void {
    const dv = this.dv;
    const s = this.pos;
    dv.setUint16(s, this.format === 'ipfix' ? 2 : 0);
    let o = s + 4;
    for (const t of [this.v4, this.v6]) {
      dv.setUint16(o, t.id);
      dv.setUint16(o + 2, t.fields.length);
      o += 4;
      for (const fl of t.fields) {
        dv.setUint16(o, fl.pen !== 0 ? fl.id | 0x8000 : fl.id);
        dv.setUint16(o + 2, fl.len);
        o += 4;
        if (fl.pen !== 0) { dv.setUint32(o, fl.pen); o += 4; }
      }
      this.msgCountV9++;
    }
    dv.setUint16(s + 2, o - s);
    this.pos = o;
  }

  private closeSet(): void {
    if (this.setStart < 0) return;
    if (this.format === 'netflow9') while ((this.pos - this.setStart) % 4 !== 0) this.buf[this.pos++] = 0;
    this.dv.setUint16(this.setStart + 2, this.pos - this.setStart);
    this.setStart = -1;
    this.setId = -1;
  }

  private add(row: FlowRow, send: (msg: Uint8Array) => void): void {
    const t = row.version === 6 ? this.v6 : this.v4;
    const domainId = this.baseDomain + row.domain;
    if (this.msgDomain >= 0 && this.msgDomain !== domainId) this.flush(send);
    if (this.msgDomain < 0) this.start(domainId);
    const pad = 3; // v9 set padding, worst case
    const need = t.length + (this.setId === t.id ? 0 : 4) + pad;
    if (this.pos + need > this.maxMessage) {
      this.flush(send);
      this.start(domainId);
    }
    if (this.setId !== t.id) {
      this.closeSet();
      this.setStart = this.pos;
      this.setId = t.id;
      this.dv.setUint16(this.pos, t.id);
      this.pos += 4;
    }
    let o = this.pos;
    for (const fl of t.fields) { fl.put(this.dv, o, row); o += fl.len; }
    this.pos = o;
    this.msgRecords++;
    this.msgCountV9++;
    this.records++;
  }
}
