/**
 * One daemon per device. Two translators on one NIC corrupt each other silently: with
 * net_af_packet both receive every frame, both answer ARP/ND and both translate. So before EAL
 * touches a device the daemon takes a lock file per device under the run directory
 * (/run/nat64, or NAT64_RUN_DIR), holding its pid. A lock whose pid is gone (a daemon that was
 * killed) is stale and taken over; a live one refuses the start with a one-line message.
 *
 * What a device is: a kernel interface (`iface=NAME` of af_packet, af_xdp, pcap, tap) is only
 * unique within its network namespace, so its key carries the namespace's inode; a PCI address is
 * host-wide. Other vdevs (net_ring, net_null, memif ...) are private to the process: no lock.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Nat64Error } from './errors';

export function runDir(): string {
  return process.env.NAT64_RUN_DIR || '/run/nat64';
}

/** The kernel interface a vdev string names ("iface=NAME": af_packet, af_xdp, pcap, tap), if any. */
export function deviceIface(device: string): string | undefined {
  return /(?:^|,)iface=([^,]+)/.exec(device)?.[1];
}

/** The lock key of a DPDK device string, or null when the device cannot be shared with another process. */
export function deviceKey(device: string): string | null {
  const iface = deviceIface(device);
  if (iface) {
    let ns = 'host';
    try { ns = String(statSync('/proc/self/ns/net').ino); } catch { /* no procfs: namespace unknown */ }
    return `iface-${ns}-${iface.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
  }
  const pci = /^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]/.exec(device)?.[0];
  if (pci) return `pci-${pci.toLowerCase().replace(/:/g, '_')}`;
  return null;
}

function ownerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false; // our own leftover (a restart of the same pid is impossible while we run)
  try { process.kill(pid, 0); } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
  // A recycled pid belongs to something else: only a nat64 process counts.
  try { return /nat64/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')); } catch { return true; }
}

export class DeviceLocks {
  private readonly held: string[] = [];

  /** Lock every device of the list, or none (refusal releases what was taken). */
  acquire(devices: string[]): void {
    const dir = runDir();
    try {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
      for (const device of devices) {
        const key = deviceKey(device);
        if (key === null) continue;
        this.take(join(dir, `${key}.lock`), device);
      }
    } catch (e) {
      this.release();
      throw e;
    }
  }

  private take(file: string, device: string): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o644);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.held.push(file);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let pid = NaN;
      try { pid = Number.parseInt(readFileSync(file, 'utf8'), 10); } catch { /* vanished: retry */ }
      if (ownerAlive(pid)) {
        throw new Nat64Error('E_DAEMON_RUNNING', `device '${device}' is already used by nat64 daemon pid ${pid} (lock ${file})`);
      }
      try { unlinkSync(file); } catch { /* someone else cleaned it */ }
    }
    throw new Nat64Error('E_DAEMON_RUNNING', `device '${device}': could not take the lock ${file}`);
  }

  release(): void {
    for (const f of this.held.splice(0)) {
      try {
        if (Number.parseInt(readFileSync(f, 'utf8'), 10) === process.pid) unlinkSync(f);
      } catch { /* already gone */ }
    }
  }
}

/**
 * Kernel interfaces that a vdev opens but does not create (af_packet, af_xdp, pcap) must exist in
 * this network namespace; DPDK's own error for a missing one is a bare EPERM. net_tap creates its own.
 */
export function checkInterfaces(devices: string[]): void {
  devices.forEach((device, i) => {
    if (!/^net_(af_packet|af_xdp|pcap)/.test(device)) return;
    const iface = deviceIface(device);
    if (iface && !existsSync(`/sys/class/net/${iface}`)) {
      throw new Nat64Error('E_CONFIG_FIELD', `dataplane.ports[${i}].device: interface '${iface}' does not exist in this network namespace`);
    }
  });
}

/** What to do about a data plane that did not start, appended to its one-line message. */
export function startHint(e: unknown, eal: readonly string[]): string {
  const err = e as { code?: string; errno?: number };
  if (err?.code !== 'NAT64_E_EAL_INIT') return '';
  if (err.errno === 22) return ': check dataplane.eal (EAL printed the offending argument above)';
  if (!eal.includes('--no-huge')) {
    return ': no usable hugepages? reserve 2 MB pages and mount hugetlbfs (scripts/setup.sh), or add --no-huge to dataplane.eal';
  }
  return '';
}
