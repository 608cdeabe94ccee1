/**
 * Raw packet injection and capture inside the test's namespaces (python3 AF_PACKET sockets, no
 * extra package): the RFC vectors of test/rfc/vectors/ sent as Ethernet frames from a node's eth0
 * to the translator's MAC, and what comes out captured on another node's eth0. Every capture is
 * bounded by a timeout and a packet count; nothing runs outside the namespaces given.
 */
import { spawn, spawnSync } from 'node:child_process';

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;

export interface CaptureSpec {
  ns: string;
  iface?: string;
  ethertype: number;
  /** [offset in the L3 packet, bytes]: every one must match. */
  match?: Array<[number, ArrayLike<number>]>;
  /** Received frames (default), frames the node itself sent, or both. */
  direction?: 'in' | 'out' | 'any';
  timeoutMs?: number;
  /** Stop after this many matching frames (default 1). */
  max?: number;
}

export interface Frame { dstMac: string; srcMac: string; l3: Uint8Array }

const CAPTURE = `
import json, select, socket, sys, time
iface, etype, spec, secs, maxn, direction = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
filt = [(o, bytes.fromhex(h)) for o, h in spec]
# ETH_P_ALL: only such sockets see the frames the node itself sends (dev_queue_xmit_nit).
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((iface, 0))
print('ready', flush=True)
end = time.time() + secs; out = []
while len(out) < maxn:
    left = end - time.time()
    if left <= 0: break
    r, _, _ = select.select([s], [], [], left)
    if not r: continue
    data, addr = s.recvfrom(65535)
    if len(data) < 14 or int.from_bytes(data[12:14], 'big') != etype: continue
    outgoing = addr[2] == socket.PACKET_OUTGOING
    if (direction == 'in' and outgoing) or (direction == 'out' and not outgoing): continue
    l3 = data[14:]
    if etype == 0x0800 and len(l3) >= 4: l3 = l3[:(l3[2] << 8) | l3[3]]
    if etype == 0x86dd and len(l3) >= 6: l3 = l3[:40 + ((l3[4] << 8) | l3[5])]
    if all(l3[o:o + len(b)] == b for o, b in filt):
        out.append([data[0:6].hex(':'), data[6:12].hex(':'), l3.hex()])
print(json.dumps(out), flush=True)
`;

const SEND = `
import socket, sys
iface, dst, etype = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', '')), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
src = s.getsockname()[4]
for h in sys.argv[4:]:
    s.send(dst + src + etype.to_bytes(2, 'big') + bytes.fromhex(h))
`;

const hex = (b: ArrayLike<number>) => Buffer.from(Uint8Array.from(b)).toString('hex');

/** A running capture; `frames()` resolves when it has `max` frames or its timeout passed. */
export interface Capture { frames(): Promise<Frame[]> }

/** Start capturing; resolves once the socket is bound, so nothing sent afterwards can be missed. */
export function startCapture(c: CaptureSpec): Promise<Capture> {
  const timeoutMs = c.timeoutMs ?? 2000;
  const spec = JSON.stringify((c.match ?? []).map(([o, b]) => [o, hex(b)]));
  const p = spawn('ip', ['netns', 'exec', c.ns, 'python3', '-c', CAPTURE, c.iface ?? 'eth0', String(c.ethertype), spec,
    String(timeoutMs / 1000), String(c.max ?? 1), c.direction ?? 'in'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  const killer = setTimeout(() => p.kill('SIGKILL'), timeoutMs + 10000);
  const done = new Promise<Frame[]>((resolve, reject) => {
    p.on('close', (code) => {
      clearTimeout(killer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('[')) { reject(new Error(`capture in ${c.ns} exited ${code}: ${err}${out}`)); return; }
      resolve((JSON.parse(last) as string[][]).map(([d, s, l3]) => ({ dstMac: d, srcMac: s, l3: Uint8Array.from(Buffer.from(l3, 'hex')) })));
    });
  });
  return new Promise((resolve, reject) => {
    let ready = false;
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!ready && out.includes('ready\n')) { ready = true; resolve({ frames: () => done }); }
    });
    p.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    done.catch(reject);
  });
}

/** Send L3 packets as Ethernet frames from `ns`'s interface to `dstMac` (source MAC: the interface's). */
export function inject(ns: string, dstMac: string, ethertype: number, packets: Uint8Array[], iface = 'eth0'): void {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'python3', '-c', SEND, iface, dstMac, String(ethertype), ...packets.map(hex)],
    { encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) throw new Error(`inject from ${ns} failed (${r.status}): ${r.stderr}`);
}

/** The MAC address of an interface inside a namespace. */
export function macOf(ns: string, iface = 'eth0'): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'cat', `/sys/class/net/${iface}/address`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`no ${iface} in ${ns}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Start every capture, then inject, then collect: the captures see everything the injection
 * caused (translations, errors back to the sender) within their timeouts.
 */
export async function exchange(send: { ns: string; dstMac: string; ethertype: number; packets: Uint8Array[] },
  captures: CaptureSpec[]): Promise<Frame[][]> {
  const running = await Promise.all(captures.map(startCapture));
  inject(send.ns, send.dstMac, send.ethertype, send.packets);
  return Promise.all(running.map((c) => c.frames()));
}

/** Match helpers for capture filters. */
export const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
export const ip4bytes = (a: string): number[] => a.split('.').map(Number);
