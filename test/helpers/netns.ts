/**
 * Test harness: re-exports the lab (lab.ts: veth pairs and namespaces
 * always torn down, frame builder, raw sender) plus what only tests need.
 */
import { isRoot } from './lab.js';

export * from './lab.js';

/** Skip reason for kernel tests when not root (false when they can run). */
export const needRoot: string | false = isRoot() ? false : 'needs root (run the suite as root, as CI does)';
