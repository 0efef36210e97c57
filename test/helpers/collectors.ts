/**
 * Real flow collectors and exporters for the tests, started on loopback:
 * nfcapd (read back with nfdump), nfacctd (pmacct, print plugin, JSON) and
 * softflowd (reading a pcap). Each start returns a stop() that waits for the
 * process to exit; nothing is left running.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free UDP port on 127.0.0.1 (bound and released). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function waitFor(p: ChildProcess, text: RegExp, out: { s: string }, ms = 10000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout waiting for ${text} in: ${out.s}`)), ms);
    const check = (): void => { if (text.test(out.s)) { clearTimeout(t); resolve(); } };
    p.stdout?.on('data', check);
    p.stderr?.on('data', check);
    p.on('exit', () => { clearTimeout(t); if (!text.test(out.s)) reject(new Error(`exited before ${text}: ${out.s}`)); });
    check();
  });
}

/**
 * Wait until a UDP socket is bound to 127.0.0.1:port (/proc/net/udp): a
 * collector may print its start-up line before it binds, and a datagram sent
 * in between is lost.
 */
async function waitUdpBound(port: number, ms = 10000): Promise<void> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + ms;
  while (!readFileSync('/proc/net/udp', 'utf8').split('\n').some((l) => l.trim().split(/\s+/)[1] === local)) {
    if (Date.now() > deadline) throw new Error(`nothing bound to UDP 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function stopper(p: ChildProcess): () => Promise<void> {
  // 'close', not 'exit': a collector prints its statistics as it exits, and 'exit' can come before
  // the last of its output has been read from the pipes
  const closed = new Promise<void>((r) => p.once('close', () => r()));
  return () => {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 5000).unref();
    }
    return closed;
  };
}

/** One nfdump CSV flow. */
export interface NfdumpFlow { sa: string; da: string; sp: number; dp: number; pr: number; ipkt: number; ibyt: number; opkt: number; obyt: number; flags: string }

const PROTO: Record<string, number> = { TCP: 6, UDP: 17, ICMP: 1, ICMP6: 58 };

/** nfcapd on 127.0.0.1:port writing to a temp dir; stop() ends it and returns nfdump's flows and nfcapd's log. */
export async function startNfcapd(port: number): Promise<{ stop: () => Promise<{ flows: NfdumpFlow[]; log: string }> }> {
  const dir = mkdtempSync(join(tmpdir(), 'netring-nfcapd-'));
  const out = { s: '' };
  const p = spawn('nfcapd', ['-w', dir, '-p', String(port), '-b', '127.0.0.1', '-t', '3600'], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.on('data', (d: Buffer) => { out.s += d.toString(); });
  p.stderr!.on('data', (d: Buffer) => { out.s += d.toString(); });
  await waitFor(p, /Startup nfcapd/, out);
  await waitUdpBound(port);
  const stop = stopper(p);
  return {
    async stop() {
      await stop();
      try {
        const csv = execFileSync('nfdump', ['-R', dir, '-o', 'csv', '-q', '-N'], { encoding: 'utf8' });
        const flows = csv.trim().split('\n').filter((l) => l.split(',').length > 14 && !l.startsWith('ts,')).map((l) => {
          const c = l.split(',');
          return {
            sa: c[3], da: c[4], sp: Number(c[5]), dp: Number(c[6]), pr: PROTO[c[7].trim()] ?? Number(c[7]), flags: c[8],
            ipkt: Number(c[11]), ibyt: Number(c[12]), opkt: Number(c[13]), obyt: Number(c[14]),
          };
        });
        return { flows, log: out.s };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** One nfacctd print-plugin JSON record. */
export interface NfacctdFlow { ip_src: string; ip_dst: string; port_src: number; port_dst: number; ip_proto: string; packets: number; bytes: number; vlan?: number }

/** nfacctd on 127.0.0.1:port printing JSON every second; stop() returns the records and the log. */
export async function startNfacctd(port: number): Promise<{ stop: () => Promise<{ flows: NfacctdFlow[]; log: string }> }> {
  const out = { s: '' };
  const log = { s: '' };
  const p = spawn('nfacctd', ['-L', '127.0.0.1', '-l', String(port), '-P', 'print', '-O', 'json', '-r', '1',
    '-c', 'src_host,dst_host,src_port,dst_port,proto,vlan'], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.on('data', (d: Buffer) => { out.s += d.toString(); });
  p.stderr!.on('data', (d: Buffer) => { log.s += d.toString(); });
  await waitFor(p, /waiting for NetFlow/, log);
  await waitUdpBound(port);
  const stop = stopper(p);
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 2500)); // one more print interval
      await stop();
      const flows = out.s.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as NfacctdFlow & { event_type: string })
        .filter((f) => f.event_type === 'purge');
      return { flows, log: log.s };
    },
  };
}

/** Run softflowd over a pcap, exporting to 127.0.0.1:port (IPFIX, IPv6 tracked, pcap time); resolves when it is done. */
export async function runSoftflowd(pcap: string, port: number, extra: string[] = []): Promise<string> {
  // no control socket (-c none): softflowd 1.1.0 sometimes blocks in accept() on it after the pcap's EOF
  const base = join(tmpdir(), `netring-softflowd-${process.pid}-${port}`);
  try {
    const p = spawn('softflowd', ['-r', pcap, '-n', `127.0.0.1:${port}`, '-v', '10', '-6', '-a', '-d',
      '-c', 'none', '-p', `${base}.pid`, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => p.kill('SIGKILL'), 20000);
    let s = '';
    p.stdout!.on('data', (d: Buffer) => { s += d.toString(); });
    p.stderr!.on('data', (d: Buffer) => { s += d.toString(); });
    const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    clearTimeout(killer);
    if (code !== 0) throw new Error(`softflowd exited with ${code}: ${s}`);
    return s;
  } finally {
    rmSync(`${base}.pid`, { force: true });
  }
}
