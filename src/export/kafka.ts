/**
 * Flow records to Kafka as JSON, one message per record, keyed by the flow
 * key ("proto src:port-dst:port[/vlan]") so a topic's partitions keep a
 * flow's records together. Client: kafkajs (pure JavaScript: no native build,
 * nothing downloaded at install, retries built in; widely used, though its
 * maintainers have asked for help: the librdkafka-based client needs a native build).
 *
 * Records are queued (bounded) and sent in batches; a batch that fails after
 * the client's retries is put back and retried until the broker is back,
 * unless the queue is over its limit: then the oldest records are dropped and
 * counted. Nothing is lost silently.
 */
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { readRecord, recordKeyText, type RecordBuffer } from '../flow/record.js';

/** Kafka output settings. */
export interface KafkaOptions {
  /** Bootstrap brokers, comma-separated "host:port". */
  brokers: string;
  /** Topic (must exist). */
  topic: string;
  /** Most records queued while the broker is unreachable (default 100000). */
  maxQueue?: number;
  /**
   * Called once when sending starts to fail (with the client's message) and
   * once when it works again (with null): one line each, not one per retry.
   */
  onState?: (error: string | null) => void;
}

/** Counters of the Kafka output. */
export interface KafkaStats { brokers: string; topic: string; sent: number; queued: number; failures: number; dropped: number; lastError: string }

interface Msg { key: string; value: string }

export class KafkaSink {
  readonly stats: KafkaStats;
  private readonly producer: Producer;
  private queue: Msg[] = [];
  private connected: Promise<void> | null = null;
  private sending: Promise<void> | null = null;
  private readonly maxQueue: number;
  private closed = false;
  private failing = false;
  private readonly onState: ((error: string | null) => void) | undefined;

  constructor(opts: KafkaOptions) {
    this.maxQueue = opts.maxQueue ?? 100_000;
    this.onState = opts.onState;
    this.stats = { brokers: opts.brokers, topic: opts.topic, sent: 0, queued: 0, failures: 0, dropped: 0, lastError: '' };
    const kafka = new Kafka({
      clientId: 'netring', brokers: opts.brokers.split(',').map((s) => s.trim()), logLevel: logLevel.NOTHING,
      retry: { retries: 0 }, // retries are ours (every 500 ms, counted as failures) so the summary shows them
    });
    // not idempotent (brokers without transaction coordinators, e.g. librdkafka's mock, refuse it):
    // delivery is at least once, in order (one request in flight)
    this.producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  }

  /** Queue every record of the buffer and start sending. */
  consume(rb: RecordBuffer): void {
    for (let i = 0; i < rb.count; i++) this.queue.push({ key: recordKeyText(rb, i), value: JSON.stringify(readRecord(rb, i)) });
    this.trim();
    this.kick();
  }

  private trim(): void {
    const over = this.queue.length - this.maxQueue;
    if (over > 0) { this.queue.splice(0, over); this.stats.dropped += over; }
    this.stats.queued = this.queue.length;
  }

  private kick(): void {
    if (this.sending !== null || this.queue.length === 0) return;
    this.sending = this.drain().finally(() => { this.sending = null; if (!this.closed) this.kick(); });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      try {
        this.connected ??= this.producer.connect();
        await this.connected;
        const batch = this.queue.slice(0, 500);
        await this.producer.send({ topic: this.stats.topic, messages: batch });
        this.queue.splice(0, batch.length);
        this.stats.sent += batch.length;
        this.stats.queued = this.queue.length;
        if (this.failing) { this.failing = false; this.onState?.(null); }
      } catch (e) {
        this.stats.failures++;
        this.stats.lastError = (e as Error).message;
        if (!this.failing) { this.failing = true; this.onState?.(this.stats.lastError); }
        this.connected = null;
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Send what is queued (waiting up to `ms` for the broker), count the rest as dropped, disconnect. */
  async close(ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.queue.length > 0 && Date.now() < deadline) {
      this.kick();
      await Promise.race([this.sending, new Promise((r) => setTimeout(r, 200))]);
    }
    this.closed = true;
    this.stats.dropped += this.queue.length;
    this.queue = [];
    this.stats.queued = 0;
    await this.sending?.catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
  }
}
