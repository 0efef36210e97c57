/**
 * Errors netring throws. Every failure of a syscall becomes a `NetringError`
 * whose message says what was being done, the errno name, and a sentence that
 * helps (EPERM -> "needs root or CAP_NET_RAW", ENODEV -> "no interface named X").
 */

/** What netring was doing when a syscall failed; used to pick the helpful sentence. */
export interface ErrorContext {
  /** Short description of the operation, e.g. "open capture on eth0". */
  op: string;
  /** Interface name, when one is involved. */
  iface?: string;
}

/** An error raised by netring. `code` is an errno name ("EPERM") or a netring code ("EGEOMETRY"). */
export class NetringError extends Error {
  /** errno name ("EPERM", "ENODEV") or a netring code ("EGEOMETRY", "ECLOSED", "ERELEASED"). */
  readonly code: string;
  /** Numeric errno when the error came from the kernel, else 0. */
  readonly errno: number;
  /** The syscall that failed, when there was one. */
  readonly syscall: string | undefined;

  constructor(message: string, code: string, errno = 0, syscall?: string) {
    super(message);
    this.name = 'NetringError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

interface SysError { code?: string; errno?: number; syscall?: string; message?: string }

function hint(code: string, ctx: ErrorContext): string {
  switch (code) {
    case 'EPERM':
    case 'EACCES':
      return 'netring needs root or the CAP_NET_RAW capability (e.g. `sudo setcap cap_net_raw,cap_net_admin=eip $(which node)`)';
    case 'ENODEV':
    case 'ENXIO':
      return ctx.iface !== undefined ? `no interface named "${ctx.iface}" (see \`ip link\`)` : 'no such network interface';
    case 'ENETDOWN':
      return ctx.iface !== undefined ? `interface "${ctx.iface}" is down (\`ip link set ${ctx.iface} up\`)` : 'the interface is down';
    case 'ENOMEM':
      return 'the kernel could not allocate the ring: use fewer or smaller blocks';
    case 'EINVAL':
      return 'the kernel refused the arguments (ring geometry, filter program or option value)';
    case 'EBUSY':
      return 'the socket already has a ring or is busy';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    case 'ENOPROTOOPT':
      return 'this kernel does not support that socket option';
    case 'EAFNOSUPPORT':
      return 'this kernel has no AF_PACKET support';
    case 'EOPNOTSUPP':
      return 'the device or kernel does not support this';
    case 'EMSGSIZE':
      return 'the frame is larger than the interface MTU allows';
    default:
      return '';
  }
}

/**
 * Turn an error thrown by the native core into a NetringError with a helpful
 * sentence. Non-syscall errors are returned unchanged.
 */
export function explain(err: unknown, ctx: ErrorContext): Error {
  if (err instanceof NetringError) return err;
  const e = err as SysError;
  if (!e || typeof e.code !== 'string' || typeof e.syscall !== 'string') return err as Error;
  const h = hint(e.code, ctx);
  const msg = `${ctx.op}: ${e.syscall} failed with ${e.code}${h ? ': ' + h : ''}`;
  return new NetringError(msg, e.code, e.errno ?? 0, e.syscall);
}

/** Run fn, rethrowing native errors as explained NetringErrors. */
export function sys<T>(ctx: ErrorContext, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw explain(err, ctx);
  }
}
