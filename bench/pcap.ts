/** The pcap reader and writer are shared with `nat64 tester pcap` (src/tester/pcap.ts). */
export { readPcap, writePcap } from '../src/tester/pcap';
