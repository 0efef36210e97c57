/**
 * What `netring demo` needs to set up its private namespace and veth pair:
 * a root check and a command runner with one-line errors. (Tests and
 * benchmarks have a fuller lab outside the package.)
 */
import { execFileSync } from 'node:child_process';

/** True when running as root (the demo needs CAP_NET_ADMIN and CAP_NET_RAW). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Run a command (inside namespace `ns` when given); throw its stderr unless `allowFail`. */
export function run(cmd: string, args: string[], opts: { ns?: string; allowFail?: boolean } = {}): string {
  const [c, a] = opts.ns ? ['ip', ['netns', 'exec', opts.ns, cmd, ...args]] : [cmd, args];
  try {
    return execFileSync(c, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    if (opts.allowFail) return '';
    const err = e as { stderr?: string; message: string };
    throw new Error(`${c} ${a.join(' ')} failed: ${err.stderr?.trim() || err.message}`);
  }
}
