import * as fs from 'node:fs';

/**
 * Classic libpcap files (microsecond timestamps, LINKTYPE_ETHERNET, no FCS): what net_pcap replays
 * and what Pktgen-DPDK and tcpreplay load, so the same traffic files serve every tool.
 */
export function writePcap(path: string, frames: Iterable<Uint8Array>): number {
  const fd = fs.openSync(path, 'w');
  try {
    const hdr = Buffer.alloc(24);
    hdr.writeUInt32LE(0xa1b2c3d4, 0); hdr.writeUInt16LE(2, 4); hdr.writeUInt16LE(4, 6);
    hdr.writeUInt32LE(65535, 16); hdr.writeUInt32LE(1, 20);
    fs.writeSync(fd, hdr);
    let n = 0;
    const rec = Buffer.alloc(16);
    const chunk: Buffer[] = [];
    let size = 0;
    for (const f of frames) {
      rec.writeUInt32LE(0, 0); rec.writeUInt32LE(n, 4); rec.writeUInt32LE(f.length, 8); rec.writeUInt32LE(f.length, 12);
      chunk.push(Buffer.from(rec), Buffer.from(f));
      size += 16 + f.length;
      n++;
      if (size > 1 << 20) { fs.writeSync(fd, Buffer.concat(chunk)); chunk.length = 0; size = 0; }
    }
    if (chunk.length) fs.writeSync(fd, Buffer.concat(chunk));
    return n;
  } finally {
    fs.closeSync(fd);
  }
}

/** Every frame of a classic pcap file (either byte order, microsecond or nanosecond). */
export function readPcap(path: string, max = Infinity): Uint8Array[] {
  const b = fs.readFileSync(path);
  if (b.length < 24) throw new Error(`${path}: not a pcap file (${b.length} bytes)`);
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${path}: not a classic pcap file`);
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const out: Uint8Array[] = [];
  for (let o = 24; o + 16 <= b.length && out.length < max; ) {
    const caplen = u32(o + 8);
    if (o + 16 + caplen > b.length) break; // a file still being written ends in a partial record
    out.push(new Uint8Array(b.subarray(o + 16, o + 16 + caplen)));
    o += 16 + caplen;
  }
  return out;
}
