import {
  B_NEXT6, B_STRIDE, HEADER_WORDS, HELD_CAPACITY, HS_STRIDE, H_B_COUNT, H_B_FREE, H_EXP_HEAD,
  H_EXP_TAIL, H_MAGIC, H_S_COUNT, H_S_FREE, MAGIC, NIL, S_BIB, S_NEXT, S_STRIDE, pow2AtLeast,
} from './layout';
import { Bib } from './bib';
import { Sessions } from './session';
import { ExpiryLists, TIMER_CLASSES } from './expiry';
import { HeldSyns } from './held-syn';
import { SU_NEXT, SU_STRIDE, subscriberCapacity } from './layout';
import { Subscribers } from './subscribers';

/**
 * One shard's tables as SharedArrayBuffers: a plain, structured-clonable object the control
 * plane allocates and hands to the shard's Piscina worker (and keeps, to read BIB and sessions).
 */
export interface ShardTableBuffers {
  /** Session capacity (a power of two); the BIB has as many slots. */
  capacity: number;
  header: SharedArrayBuffer;
  bib: SharedArrayBuffer;
  bibHash6: SharedArrayBuffer;
  bibHash4: SharedArrayBuffer;
  session: SharedArrayBuffer;
  sessionTime: SharedArrayBuffer;
  sessionHash: SharedArrayBuffer;
  sessionAddrHash: SharedArrayBuffer;
  /** One byte per session: SF_* flags (layout.ts), e.g. "came from a peer" (session sync). */
  sessionFlags: SharedArrayBuffer;
  held: SharedArrayBuffer;
  heldTime: SharedArrayBuffer;
  /** Per-subscriber accounting (subscribers.ts): records and hash heads, subscriberCapacity(capacity) each. */
  subscriber: SharedArrayBuffer;
  subscriberHash: SharedArrayBuffer;
}

export class TableError extends Error {
  constructor(readonly code: 'ERR_TABLE_CAPACITY' | 'ERR_TABLE_BUFFERS', message: string) {
    super(message);
    this.name = 'TableError';
  }
}

const I32 = Int32Array.BYTES_PER_ELEMENT;
const F64 = Float64Array.BYTES_PER_ELEMENT;

/**
 * Control path: allocate and initialise (free lists threaded, indexes empty) one shard's tables.
 * `advise` sees every buffer before its first write (the data plane asks for transparent huge
 * pages there: lookups at random in tables of tens of MB otherwise miss the TLB as well).
 */
export function allocateShardTables(requested: number, advise?: (view: ArrayBufferView) => void): ShardTableBuffers {
  if (!Number.isInteger(requested) || requested < 1 || requested > 1 << 24) {
    throw new TableError('ERR_TABLE_CAPACITY', `table capacity must be an integer in 1..16777216, got ${requested}`);
  }
  const capacity = pow2AtLeast(requested);
  const buffers: ShardTableBuffers = {
    capacity,
    header: new SharedArrayBuffer(HEADER_WORDS * I32),
    bib: new SharedArrayBuffer(capacity * B_STRIDE * I32),
    bibHash6: new SharedArrayBuffer(capacity * I32),
    bibHash4: new SharedArrayBuffer(capacity * I32),
    session: new SharedArrayBuffer(capacity * S_STRIDE * I32),
    sessionTime: new SharedArrayBuffer(capacity * F64),
    sessionHash: new SharedArrayBuffer(capacity * I32),
    sessionAddrHash: new SharedArrayBuffer(capacity * I32),
    sessionFlags: new SharedArrayBuffer(capacity),
    held: new SharedArrayBuffer(HELD_CAPACITY * HS_STRIDE * I32),
    heldTime: new SharedArrayBuffer(HELD_CAPACITY * F64),
    subscriber: new SharedArrayBuffer(subscriberCapacity(capacity) * SU_STRIDE * I32),
    subscriberHash: new SharedArrayBuffer(subscriberCapacity(capacity) * I32),
  };
  if (advise) {
    for (const k of Object.keys(buffers) as Array<keyof ShardTableBuffers>) {
      const b = buffers[k];
      if (b instanceof SharedArrayBuffer) advise(new Uint8Array(b));
    }
  }
  initialise(buffers);
  return buffers;
}

function initialise(b: ShardTableBuffers): void {
  const n = b.capacity;
  new Int32Array(b.bibHash6).fill(NIL);
  new Int32Array(b.bibHash4).fill(NIL);
  new Int32Array(b.sessionHash).fill(NIL);
  new Int32Array(b.sessionAddrHash).fill(NIL);
  new Int32Array(b.subscriberHash).fill(NIL);
  const sub = new Int32Array(b.subscriber), ns = subscriberCapacity(n);
  for (let i = 0; i < ns; i++) sub[i * SU_STRIDE + SU_NEXT] = i + 1 < ns ? i + 1 : NIL;
  const bib = new Int32Array(b.bib);
  const ses = new Int32Array(b.session);
  for (let i = 0; i < n; i++) {
    bib[i * B_STRIDE + B_NEXT6] = i + 1 < n ? i + 1 : NIL;
    ses[i * S_STRIDE + S_NEXT] = i + 1 < n ? i + 1 : NIL;
    ses[i * S_STRIDE + S_BIB] = NIL;
  }
  const h = new Int32Array(b.header);
  h[H_S_FREE] = 0;
  h[H_S_COUNT] = 0;
  h[H_B_FREE] = 0;
  h[H_B_COUNT] = 0;
  for (let c = 0; c < TIMER_CLASSES; c++) {
    h[H_EXP_HEAD + c] = NIL;
    h[H_EXP_TAIL + c] = NIL;
  }
  h[H_MAGIC] = MAGIC;
}

export function checkBuffers(b: ShardTableBuffers): void {
  if (!b || !(b.header instanceof SharedArrayBuffer) || new Int32Array(b.header)[H_MAGIC] !== MAGIC
    || b.bib.byteLength !== b.capacity * B_STRIDE * I32
    || !(b.subscriber instanceof SharedArrayBuffer) || b.subscriber.byteLength !== subscriberCapacity(b.capacity) * SU_STRIDE * I32) {
    throw new TableError('ERR_TABLE_BUFFERS', 'shard table buffers were not made by allocateShardTables()');
  }
}

/** The shard's (single writer's) view of its tables. Holds no state of its own beyond views. */
export class ShardTables {
  readonly header: Int32Array;
  readonly bib: Bib;
  readonly expiry: ExpiryLists;
  readonly sessions: Sessions;
  readonly held: HeldSyns;
  readonly subscribers: Subscribers;

  constructor(readonly buffers: ShardTableBuffers) {
    checkBuffers(buffers);
    this.header = new Int32Array(buffers.header);
    this.bib = new Bib(buffers, this.header);
    this.expiry = new ExpiryLists(buffers, this.header);
    this.sessions = new Sessions(buffers, this.header, this.bib, this.expiry);
    this.held = new HeldSyns(buffers, this.header);
    this.subscribers = new Subscribers(buffers, this.header);
  }
}
