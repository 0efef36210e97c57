/**
 * FlowExporter: encodes records (IPFIX or NetFlow v9) and sends them to one
 * collector over UDP or TCP. Counts records, messages and what was lost.
 */
import type { RecordBuffer } from '../flow/record.js';
import { MessageEncoder, type EncoderOptions, type ExportFormat } from './encoder.js';
import { parseHostPort, TcpTransport, UdpTransport, type Transport, type TransportStats } from './transport.js';

/** Exporter settings. */
export interface ExporterOptions extends EncoderOptions {
  /** Collector "host:port". */
  collector: string;
  /** Transport (default udp). */
  transport?: 'udp' | 'tcp';
}

/** Counters of an exporter. */
export interface ExporterStats extends TransportStats {
  format: ExportFormat;
  collector: string;
  /** Data records encoded (biflow: one per flow record; unidirectional: one per direction). */
  records: number;
  /** Template sets sent. */
  templates: number;
  /** Messages encoded: each one ends as sent (messages), failed (errors) or dropped. */
  encoded: number;
}

export class FlowExporter {
  readonly encoder: MessageEncoder;
  readonly transport: Transport;
  private readonly send: (m: Uint8Array) => void;

  constructor(readonly opts: ExporterOptions) {
    const { host, port } = parseHostPort(opts.collector);
    const tcp = opts.transport === 'tcp';
    // over TCP templates go once per connection; over UDP they are refreshed
    this.encoder = new MessageEncoder(tcp ? { ...opts, templateRefreshSeconds: 0, templateRefreshMessages: 0 } : opts);
    this.transport = tcp ? new TcpTransport(host, port) : new UdpTransport(host, port);
    this.send = (m) => this.transport.send(m);
    if (tcp) this.transport.onConnect = (send) => this.encoder.templateMessages(send);
  }

  /** Encode and send a buffer of records. */
  consume(rb: RecordBuffer): void {
    this.encoder.encode(rb, this.send);
  }

  stats(): ExporterStats {
    return {
      ...this.transport.stats, format: this.encoder.format, collector: this.opts.collector,
      records: this.encoder.records, templates: this.encoder.templateSends, encoded: this.encoder.messages,
    };
  }

  async close(): Promise<void> {
    this.encoder.flush(this.send);
    await this.transport.close();
  }
}
