/**
 * netring/export: flow records to the systems that collect them.
 *
 * - {@link MessageEncoder}: IPFIX (RFC 7011, RFC 5103 biflows) and NetFlow v9
 *   messages with IPv4/IPv6 templates, template refresh, sequence numbers.
 * - {@link FlowExporter}: an encoder plus a UDP or TCP collector connection.
 * - {@link KafkaSink}: records as JSON messages to Kafka (kafkajs).
 *
 * @module
 */
export { MessageEncoder, type EncoderOptions, type ExportFormat } from './encoder.js';
export { FlowExporter, type ExporterOptions, type ExporterStats } from './collector.js';
export { KafkaSink, type KafkaOptions, type KafkaStats } from './kafka.js';
export { UdpTransport, TcpTransport, parseHostPort, type Transport, type TransportStats } from './transport.js';
export { ipfixFields, netflow9Fields, IE, REVERSE_PEN, type Field } from './fields.js';
export { FlowRow, fillRow } from './row.js';
