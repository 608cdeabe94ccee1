/**
 * Counters kept by the native I/O layer (native/io.cc, ShardStatsNative): what happens to a frame
 * before the shard's TypeScript sees it or after it gave its verdict. Same naming as counters.ts;
 * `stats display`, the metrics and the manager merge them with the shard counters.
 */
import type { ShardIoStats } from '../native/types';
import { COUNTERS, type CounterDef } from './counters';
import { LOG_DROPPED } from './events';

export interface IoCounterDef extends CounterDef { key: keyof ShardIoStats }

export const IO_COUNTERS: readonly IoCounterDef[] = [
  { name: 'checksum-partial-flagged', key: 'checksumPartialFlagged',
    explain: 'TCP/UDP frame whose checksum held only the pseudo-header sum (a local or virtio sender\'s CHECKSUM_PARTIAL), as the device reported it (RX_L4_CKSUM_NONE). Finished by the translator (checksum-partial-completed or -offloaded).' },
  { name: 'checksum-partial-detected', key: 'checksumPartialDetected',
    explain: 'The same, recognised in software on a port whose driver loses the kernel\'s mark (rxChecksum "detect": net_af_packet, net_af_xdp): the field equals the pseudo-header sum and the segment does not verify with it.' },
  { name: 'checksum-partial-completed', key: 'checksumCompleted',
    explain: 'Partial TCP/UDP checksum finished in software: on transmit from the translated headers, or on receive when the translated packet might be fragmented.' },
  { name: 'checksum-partial-offloaded', key: 'checksumOffloaded',
    explain: 'Partial TCP/UDP checksum left to the egress device\'s TX checksum offload (txChecksum "auto" on a device that has it).' },
  { name: 'checksum-bad-dropped', key: 'checksumBadDropped',
    explain: 'Dropped: the device reported a wrong TCP/UDP checksum (RX_L4_CKSUM_BAD, rxChecksum "device").' },
  { name: 'io-rx-multiseg-dropped', key: 'rxMultiSegDropped',
    explain: 'Dropped: a received frame spread over several buffers (the shards see single-buffer frames; MTU and mbufDataRoom should prevent it).' },
  { name: 'io-tx-full-dropped', key: 'txDropped', explain: 'Dropped: the port\'s transmit queue did not take the frame (full).' },
  { name: 'io-handoff-full-dropped', key: 'handoffDropped', explain: 'Dropped: the owning shard\'s hand-off ring was full.' },
  { name: 'io-alloc-failed', key: 'allocFailed', explain: 'No packet buffer for a frame the shard builds (ARP/ND, fragments, ICMP answers to stored SYNs).' },
  { name: 'io-tx-invalid', key: 'txInvalid',
    explain: 'Dropped: a verdict that could not be applied (port not started, unknown shard, frame outside its buffer) or a burst left without verdicts.' },
];

/** Every counter `stats display` and the metrics show, in that order: the shards', the I/O layer's, the event ring's. */
export const ALL_COUNTER_DEFS: readonly CounterDef[] = [...COUNTERS, ...IO_COUNTERS, LOG_DROPPED];
