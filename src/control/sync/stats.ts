/** The session-sync counters and gauges (`stats display`, metrics; docs/metrics.md). */
export interface SyncStatDef { name: string; explain: string; gauge?: boolean }

export const SYNC_STATS = [
  { name: 'sync-sent', explain: 'Session-sync datagrams sent (records, dump requests, keepalives, dumps).' },
  { name: 'sync-bytes-sent', explain: 'UDP payload bytes of the session-sync datagrams sent.' },
  { name: 'sync-records-sent', explain: 'Session records sent to the peers (created, changed, removed, refreshed, dumped).' },
  { name: 'sync-received', explain: 'Session-sync datagrams received on the sync socket.' },
  { name: 'sync-bytes-received', explain: 'UDP payload bytes of the session-sync datagrams received.' },
  { name: 'sync-records-received', explain: 'Session records received in accepted datagrams.' },
  { name: 'sync-applied', explain: 'Peer records applied to a shard\'s tables.' },
  { name: 'sync-rejected-source', explain: 'Datagrams dropped: the source address is not a configured peer.' },
  { name: 'sync-rejected-auth', explain: 'Datagrams dropped: no HMAC, or a wrong one, while a shared key is configured.' },
  { name: 'sync-rejected-malformed', explain: 'Datagrams dropped: not a session-sync datagram of our version, or inconsistent lengths.' },
  { name: 'sync-rejected-replay', explain: 'Datagrams dropped: a sequence number or sender id already seen (replayed, duplicated or reordered).' },
  { name: 'sync-rejected-disabled', explain: 'Datagrams or records not applied: no instance, or ss-enabled is false here.' },
  { name: 'sync-rejected-not-pool4', explain: 'Records not applied: their IPv4 transport address is not in this translator\'s pool4.' },
  { name: 'sync-rejected-conflict', explain: 'Records not applied: this translator maps one side of the record differently.' },
  { name: 'sync-rejected-table-full', explain: 'Records not applied: the owning shard\'s BIB, session or redirect table is full.' },
  { name: 'sync-rejected-bad-record', explain: 'Records not applied: unknown kind, protocol or TCP state.' },
  { name: 'sync-rejected-stale', explain: 'Removals not applied: this translator used the session after the peer last did (it serves that flow now).' },
  { name: 'sync-rejected-backlog', explain: 'Records not applied: more records waited for a shard than it takes (a dump is asked for).' },
  { name: 'sync-ring-dropped', explain: 'Records lost because a shard\'s sync ring was full (the peers are told and ask for a dump).' },
  { name: 'sync-send-errors', explain: 'Datagrams the kernel refused to send.' },
  { name: 'sync-gaps', explain: 'Losses seen in a peer\'s stream (sequence gap, loss flag, or a peer that restarted).' },
  { name: 'sync-dump-requests-sent', explain: 'Full dumps asked of peers (at start, after a gap, or when a peer restarted).' },
  { name: 'sync-dump-requests-received', explain: 'Full dumps peers asked of us.' },
  { name: 'sync-dump-records-sent', explain: 'Session records sent in dumps.' },
  { name: 'sync-lag-ms', gauge: true, explain: 'Sender: age of the oldest record of the last datagram sent (from the shard\'s event to the socket), ms.' },
  { name: 'sync-peer-lag-ms', gauge: true, explain: 'Receiver: from the peer\'s send time to the records being applied here, ms (the hosts\' clocks must agree).' },
] as const satisfies readonly SyncStatDef[];

export type SyncStatName = (typeof SYNC_STATS)[number]['name'];
export type SyncStatValues = Record<SyncStatName, number>;

export function zeroSyncStats(): SyncStatValues {
  return Object.fromEntries(SYNC_STATS.map((d) => [d.name, 0])) as SyncStatValues;
}
