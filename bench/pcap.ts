import * as fs from 'node:fs';

/**
 * Classic libpcap files (microsecond timestamps, LINKTYPE_ETHERNET): what net_pcap replays and what
 * Pktgen-DPDK and siitperf users load, so the same traffic files serve every tool.
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
