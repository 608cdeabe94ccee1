// N-API glue: registers the functions of src/native/types.ts (NativeAddon), converts arguments and
// turns nat64::Failure into JS errors with `code` and `errno`. No DPDK logic lives here.
#include <napi.h>

#include <cstdlib>
#include <cmath>
#include <string>
#include <vector>

#include "eal.h"
#include "checksum.h"
#include "errors.h"
#include "frag.h"
#include "gen.h"
#include "memory.h"
#include "prefetch.h"
#include "mempool.h"

#include <rte_mbuf.h>
#include "port.h"
#include "shard.h"
#include "state.h"

namespace nat64 {
namespace {

// Per JS environment (main thread, each worker): views handed out by shardAttach. An external
// ArrayBuffer is not shareable between isolates, so every worker makes its own, once.
struct EnvData {
  Napi::Reference<Napi::ArrayBuffer> arena;
  Napi::ObjectReference views[kMaxShards];
  bool registeredThread = false;
};

EnvData &envData(Napi::Env env) {
  EnvData *d = env.GetInstanceData<EnvData>();
  if (!d) {
    d = new EnvData();
    env.SetInstanceData(d);  // deleted by node-addon-api's default finalizer at env teardown
  }
  return *d;
}

Napi::Error toJs(Napi::Env env, const Failure &f) {
  Napi::Error e = Napi::Error::New(env, f.what());
  e.Set("code", Napi::String::New(env, f.code()));
  if (f.errnum() != 0) e.Set("errno", Napi::Number::New(env, f.errnum()));
  return e;
}

// Runs a control-path body, converting Failure (and allocation failure) to a thrown JS error.
template <typename Body>
Napi::Value guarded(const Napi::CallbackInfo &info, Body body) {
  Napi::Env env = info.Env();
  try {
    return body(env);
  } catch (const Failure &f) {
    throw toJs(env, f);
  } catch (const std::bad_alloc &) {
    throw toJs(env, Failure(code::kState, ENOMEM, "out of memory in the native layer"));
  }
}

uint32_t argU32(const Napi::CallbackInfo &info, size_t i, const char *name, uint32_t max = UINT32_MAX) {
  napi_value v = info[i];
  double d;
  if (napi_get_value_double(info.Env(), v, &d) != napi_ok || !(d >= 0) || d > max || std::floor(d) != d)
    fail(code::kArg, std::string(name) + " must be an integer in 0.." + std::to_string(max));
  return static_cast<uint32_t>(d);
}

uint32_t propU32(Napi::Object o, const char *key, bool required, uint32_t dflt, uint32_t max) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && !required) return dflt;
  if (!v.IsNumber()) fail(code::kArg, std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > max || std::floor(d) != d)
    fail(code::kArg, std::string(key) + " must be an integer in 0.." + std::to_string(max));
  return static_cast<uint32_t>(d);
}

std::string propString(Napi::Object o, const char *key, const char *dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return dflt;
  if (!v.IsString()) fail(code::kArg, std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Array stringArray(Napi::Env env, const std::vector<std::string> &v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), v[i]);
  return a;
}

std::string argString(const Napi::CallbackInfo &info, size_t i, const char *name) {
  if (!info[i].IsString()) fail(code::kArg, std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

void mainEnvCleanup(void *) {
  try {
    shutdown();
  } catch (...) {
    // Process teardown: nothing to report to.
  }
}

void workerEnvCleanup(void *) { threadUnregister(); }

Napi::Value EalInit(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    if (!info[0].IsArray()) fail(code::kArg, "ealInit: args must be an array of strings");
    Napi::Array arr = info[0].As<Napi::Array>();
    std::vector<std::string> args;
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value v = arr.Get(i);
      if (!v.IsString()) fail(code::kArg, "ealInit: args[" + std::to_string(i) + "] is not a string");
      args.push_back(v.As<Napi::String>().Utf8Value());
    }
    ealInit(args);
    // A normal exit of this environment releases ports and hugepages; atexit covers process.exit(),
    // which skips environment cleanup hooks. shutdown() is idempotent.
    napi_add_env_cleanup_hook(env, mainEnvCleanup, nullptr);
    std::atexit([] { mainEnvCleanup(nullptr); });
    return env.Undefined();
  });
}

Napi::Value EalInitialized(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), ealInitialized());
}

Napi::Value MempoolCreate(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    uint32_t dataRoom = info.Length() > 1 && !info[1].IsUndefined() ? argU32(info, 1, "dataRoom") : RTE_MBUF_DEFAULT_DATAROOM;
    mempoolCreate(argU32(info, 0, "nbMbufs"), dataRoom);
    return env.Undefined();
  });
}

Napi::Value PortProbe(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    return Napi::Number::New(env, portProbe(argString(info, 0, "devargs")));
  });
}

Napi::Value PortStart(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    uint32_t port = argU32(info, 0, "portId");
    if (!info[1].IsObject()) fail(code::kArg, "portStart: options must be an object");
    Napi::Object o = info[1].As<Napi::Object>();
    PortStartOptions opts;
    opts.rxQueues = static_cast<uint16_t>(propU32(o, "rxQueues", true, 0, UINT16_MAX));
    opts.txQueues = static_cast<uint16_t>(propU32(o, "txQueues", true, 0, UINT16_MAX));
    opts.mtu = static_cast<uint16_t>(propU32(o, "mtu", true, 0, UINT16_MAX));
    opts.rxDescs = static_cast<uint16_t>(propU32(o, "rxDescs", false, 0, UINT16_MAX));
    opts.txDescs = static_cast<uint16_t>(propU32(o, "txDescs", false, 0, UINT16_MAX));
    opts.rxChecksum = propString(o, "rxChecksum", "auto");
    opts.txChecksum = propString(o, "txChecksum", "auto");
    opts.mac = propString(o, "mac", "");
    opts.iface = propString(o, "iface", "");
    portStart(port, opts);
    return env.Undefined();
  });
}

Napi::Value PortInfo(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    PortInfoNative p = portInfo(argU32(info, 0, "portId"));
    Napi::Object o = Napi::Object::New(env);
    o.Set("portId", p.portId);
    o.Set("name", p.name);
    o.Set("driver", p.driver);
    o.Set("mac", p.mac);
    o.Set("maxRxQueues", p.maxRxQueues);
    o.Set("maxTxQueues", p.maxTxQueues);
    o.Set("rxQueues", p.rxQueues);
    o.Set("txQueues", p.txQueues);
    o.Set("mtu", p.mtu);
    o.Set("rxChecksum", p.rxChecksum);
    o.Set("rxOffloads", stringArray(env, p.rxOffloads));
    o.Set("txOffloads", stringArray(env, p.txOffloads));
    o.Set("kernel", stringArray(env, p.kernel));
    o.Set("link", p.linkUp ? "up" : "down");
    o.Set("linkSpeedMbps", p.linkSpeedMbps);
    return o;
  });
}

Napi::Value PortStats(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    rte_eth_stats st = portStats(argU32(info, 0, "portId"));
    Napi::Object o = Napi::Object::New(env);
    // Counters stay below 2^53 for centuries at line rate; Number is what the contract says.
    o.Set("ipackets", static_cast<double>(st.ipackets));
    o.Set("opackets", static_cast<double>(st.opackets));
    o.Set("ibytes", static_cast<double>(st.ibytes));
    o.Set("obytes", static_cast<double>(st.obytes));
    o.Set("imissed", static_cast<double>(st.imissed));
    o.Set("ierrors", static_cast<double>(st.ierrors));
    o.Set("oerrors", static_cast<double>(st.oerrors));
    o.Set("rxNombuf", static_cast<double>(st.rx_nombuf));
    return o;
  });
}

Napi::Value PortSetMtu(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    portSetMtu(argU32(info, 0, "portId"), argU32(info, 1, "mtu", UINT16_MAX));
    return env.Undefined();
  });
}

Napi::Value PortStop(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    portStop(argU32(info, 0, "portId"));
    return env.Undefined();
  });
}

Napi::Value PortClose(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    portClose(argU32(info, 0, "portId"));
    return env.Undefined();
  });
}

Napi::Value ShardCreate(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    uint32_t shard = argU32(info, 0, "shard");
    uint32_t shards = argU32(info, 1, "shards");
    if (!info[2].IsArray()) fail(code::kArg, "shardCreate: rxQueues must be an array of { portId, queue }");
    Napi::Array arr = info[2].As<Napi::Array>();
    std::vector<RxPair> pairs;
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value v = arr.Get(i);
      if (!v.IsObject()) fail(code::kArg, "shardCreate: rxQueues[" + std::to_string(i) + "] is not an object");
      Napi::Object o = v.As<Napi::Object>();
      pairs.push_back(RxPair{static_cast<uint16_t>(propU32(o, "portId", true, 0, RTE_MAX_ETHPORTS - 1)),
                             static_cast<uint16_t>(propU32(o, "queue", true, 0, UINT16_MAX))});
    }
    shardCreate(shard, shards, pairs);
    return env.Undefined();
  });
}

Napi::Value ShardAttach(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    uint32_t index = argU32(info, 0, "shard");
    Shard &s = requireShard(index);
    EnvData &d = envData(env);
    if (!d.views[index].IsEmpty()) return d.views[index].Value();

    int lcore = threadRegister();
    if (lcore >= 0 && !d.registeredThread) {
      d.registeredThread = true;
      napi_add_env_cleanup_hook(env, workerEnvCleanup, nullptr);
    }
    const Arena &a = state().arena;
    if (d.arena.IsEmpty()) {
      // External, no finalizer: the pool outlives every view (shutdown comes after the workers).
      Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, a.base, a.len);
      d.arena = Napi::Persistent(ab);
    }
    Napi::ArrayBuffer rxAb = Napi::ArrayBuffer::New(env, s.rxDesc, sizeof s.rxDesc);
    Napi::ArrayBuffer vAb = Napi::ArrayBuffer::New(env, s.verdict, sizeof s.verdict);
    Napi::Object o = Napi::Object::New(env);
    o.Set("arena", d.arena.Value());
    o.Set("rxDesc", Napi::Uint32Array::New(env, kBurst * kRxStride, rxAb, 0));
    o.Set("verdict", Napi::Int32Array::New(env, kBurst * kVerdictStride, vAb, 0));
    o.Set("mbufDataStart", a.dataStart);
    o.Set("mbufBufLen", a.bufLen);
    // -1: rte_thread_register failed, the thread allocates without a per-lcore mempool cache.
    o.Set("lcore", lcore);
    d.views[index] = Napi::Persistent(o);
    return o;
  });
}

Napi::Value Rx(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    Shard &s = requireShard(argU32(info, 0, "shard"));
    return Napi::Number::New(env, shardRx(s));
  });
}

Napi::Value Tx(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    Shard &s = requireShard(argU32(info, 0, "shard"));
    shardTx(s, argU32(info, 1, "n", kBurst));
    return env.Undefined();
  });
}

rte_mbuf *argMbuf(const Napi::CallbackInfo &info, size_t i) {
  uint32_t handle = argU32(info, i, "mbuf");
  rte_mbuf *m = mbufFromHandle(handle);
  if (!m) fail(code::kArg, "mbuf " + std::to_string(handle) + " is not an mbuf handle of the arena");
  return m;
}

Napi::Value Send(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    Shard &s = requireShard(argU32(info, 0, "shard"));
    uint16_t port = static_cast<uint16_t>(argU32(info, 1, "portId", UINT16_MAX));
    rte_mbuf *m = argMbuf(info, 2);
    bool ok = shardSend(s, port, m, argU32(info, 3, "data"), argU32(info, 4, "len"));
    return Napi::Boolean::New(env, ok);
  });
}

Napi::Value Alloc(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    Shard &s = requireShard(argU32(info, 0, "shard"));
    return Napi::Number::New(env, static_cast<double>(shardAlloc(s)));
  });
}

Napi::Value Free(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    requireShard(argU32(info, 0, "shard"));
    rte_pktmbuf_free(argMbuf(info, 1));
    return env.Undefined();
  });
}

Napi::Value ShardStats(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    const ShardStatsNative &st = requireShard(argU32(info, 0, "shard")).stats;
    Napi::Object o = Napi::Object::New(env);
    auto set = [&](const char *k, const std::atomic<uint64_t> &c) {
      o.Set(k, static_cast<double>(c.load(std::memory_order_relaxed)));
    };
    set("rxPackets", st.rxPackets);
    set("txPackets", st.txPackets);
    set("txDropped", st.txDropped);
    set("handoffOut", st.handoffOut);
    set("handoffDropped", st.handoffDropped);
    set("allocFailed", st.allocFailed);
    set("rxMultiSegDropped", st.rxMultiSegDropped);
    set("txInvalid", st.txInvalid);
    set("checksumPartialFlagged", st.checksumPartialFlagged);
    set("checksumPartialDetected", st.checksumPartialDetected);
    set("checksumBadDropped", st.checksumBadDropped);
    set("checksumCompleted", st.checksumCompleted);
    set("checksumOffloaded", st.checksumOffloaded);
    return o;
  });
}

Napi::Value Shutdown(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    shutdown();
    return env.Undefined();
  });
}

// ---- Benchmark traffic generator (native/gen.cc; bench/ only) ----

template <typename T>
std::vector<T> typedVector(Napi::Object o, const char *key) {
  Napi::Value v = o.Get(key);
  if (!v.IsTypedArray()) fail(code::kArg, std::string("genStart: ") + key + " must be a typed array");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  if (ta.ElementSize() != sizeof(T)) fail(code::kArg, std::string("genStart: ") + key + " has the wrong element size");
  const T *p = reinterpret_cast<const T *>(static_cast<uint8_t *>(ta.ArrayBuffer().Data()) + ta.ByteOffset());
  return std::vector<T>(p, p + ta.ElementLength());
}

Napi::Value GenPortCreate(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    return Napi::Number::New(env, genPortCreate(argString(info, 0, "name"), argU32(info, 1, "queues", 16),
                                                argU32(info, 2, "ringSize", 1u << 20)));
  });
}

Napi::Value GenAttach(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    genAttach(static_cast<uint16_t>(argU32(info, 0, "portId", RTE_MAX_ETHPORTS - 1)), argU32(info, 1, "queues", 16));
    return env.Undefined();
  });
}

Napi::Value GenZeroPool(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    genZeroPool();
    return env.Undefined();
  });
}

Napi::Value GenStart(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    if (!info[0].IsObject()) fail(code::kArg, "genStart: spec must be an object");
    Napi::Object o = info[0].As<Napi::Object>();
    GenSpec s;
    s.portId = static_cast<uint16_t>(propU32(o, "portId", true, 0, RTE_MAX_ETHPORTS - 1));
    s.tmpl = typedVector<uint8_t>(o, "template");
    s.addrOff = propU32(o, "addrOff", true, 0, 4096);
    s.portOff = propU32(o, "portOff", true, 0, 4096);
    s.l4CsumOff = propU32(o, "l4CsumOff", false, 0, 4096);
    s.ipCsumOff = propU32(o, "ipCsumOff", false, 0, 4096);
    s.udp = o.Get("udp").ToBoolean();
    s.stamp = o.Get("stamp").ToBoolean();
    s.random = o.Get("random").ToBoolean();
    s.addr = typedVector<uint32_t>(o, "addr");
    s.port = typedVector<uint16_t>(o, "port");
    s.queue = typedVector<uint8_t>(o, "queue");
    Napi::Value count = o.Get("count");
    s.count = count.IsNumber() ? static_cast<uint64_t>(count.As<Napi::Number>().DoubleValue()) : 0;
    Napi::Value pps = o.Get("pps");
    s.pps = pps.IsNumber() ? pps.As<Napi::Number>().DoubleValue() : 0;
    s.seed = propU32(o, "seed", false, 1, UINT32_MAX);
    Napi::Value cpu = o.Get("cpu");
    s.cpu = cpu.IsNumber() ? cpu.As<Napi::Number>().Int32Value() : -1;
    genStart(s);
    return env.Undefined();
  });
}

Napi::Value GenStop(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    genStop();
    return env.Undefined();
  });
}

Napi::Value GenPause(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    genPause();
    return env.Undefined();
  });
}

Napi::Value GenStats(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    GenStatsNative s = genStats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("sent", static_cast<double>(s.sent));
    o.Set("received", static_cast<double>(s.received));
    o.Set("missed", static_cast<double>(s.missed));
    o.Set("allocFailed", static_cast<double>(s.allocFailed));
    o.Set("ringFull", static_cast<double>(s.ringFull));
    o.Set("firstTxNs", s.firstTxNs);
    o.Set("lastTxNs", s.lastTxNs);
    o.Set("lastRxNs", s.lastRxNs);
    o.Set("nowNs", s.nowNs);
    o.Set("genNs", s.genNs);
    o.Set("generating", s.generating);
    return o;
  });
}

Napi::Value GenHistogram(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    Napi::Uint32Array a = Napi::Uint32Array::New(env, kGenHistBuckets);
    genTakeHistogram(a.Data());
    return a;
  });
}

// ---- Reassembly (native/frag.cc) ----

Napi::Value FragConfigure(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) {
    if (!info[0].IsObject()) fail(code::kArg, "fragConfigure: limits must be an object");
    Napi::Object o = info[0].As<Napi::Object>();
    FragLimits l = fragLimits();
    l.maxFlows = propU32(o, "maxFlows", false, l.maxFlows, 1u << 20);
    l.timeoutMs = propU32(o, "timeoutMs", false, l.timeoutMs, 3600000);
    if (l.maxFlows == 0 || l.timeoutMs == 0) fail(code::kArg, "fragConfigure: maxFlows and timeoutMs must be > 0");
    fragConfigure(l);
    return env.Undefined();
  });
}

Napi::Value FragReassemble(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    Shard &s = requireShard(argU32(info, 0, "shard"));
    rte_mbuf *m = argMbuf(info, 1);
    uint32_t family = argU32(info, 2, "family", 6);
    if (family != 4 && family != 6) fail(code::kArg, "family must be 4 or 6");
    return Napi::Number::New(env, fragReassemble(s, m, family));
  });
}

Napi::Value FragExpire(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    return Napi::Number::New(env, fragExpire(requireShard(argU32(info, 0, "shard"))));
  });
}

// ---- checksum.h over a frame in a Uint8Array (unit tests and the fuzzer; no EAL needed) ----

// checksumFrame(frame, mode): mode "classify" -> "partial" | "complete" | "none" (not TCP/UDP as
// checksum.h locates it); "complete" / "offload" rewrite the field in place and return the same.
Napi::Value ChecksumFrame(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    if (info.Length() < 2 || !info[0].IsTypedArray()) fail(code::kArg, "checksumFrame: frame must be a Uint8Array");
    Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
    std::string mode = argString(info, 1, "mode");
    L4Where w;
    if (!l4Locate(a.Data(), static_cast<uint32_t>(a.ElementLength()), w)) return Napi::String::New(env, "none");
    if (mode == "complete") l4Complete(a.Data(), w);
    else if (mode == "offload") l4PrepareOffload(a.Data(), w);
    else if (mode != "classify") fail(code::kArg, "checksumFrame: mode must be classify, complete or offload");
    return Napi::String::New(env, l4Classify(a.Data(), w) == L4Sum::kPartial ? "partial" : "complete");
  });
}

// ---- Table memory and flow-cache prefetch (native/memory.h, native/prefetch.h) ----

// A typed-array argument's memory (its own buffer or a SharedArrayBuffer's), as V8 holds it.
struct TypedArrayArg {
  void *data = nullptr;
  size_t bytes = 0;
  size_t length = 0;
  napi_typedarray_type type = napi_uint8_array;
};

TypedArrayArg typedArrayArg(const Napi::CallbackInfo &info, size_t i, const char *what) {
  if (info.Length() <= i || !info[i].IsTypedArray()) fail(code::kArg, std::string(what) + " must be a typed array");
  TypedArrayArg a;
  napi_value ab;
  size_t offset = 0;
  if (napi_get_typedarray_info(info.Env(), info[i], &a.type, &a.length, &a.data, &ab, &offset) != napi_ok)
    fail(code::kArg, std::string(what) + ": no typed array info");
  a.bytes = info[i].As<Napi::TypedArray>().ByteLength();
  return a;
}

const int32_t *int32Arg(const Napi::CallbackInfo &info, size_t i, const char *what, size_t *words) {
  TypedArrayArg a = typedArrayArg(info, i, what);
  if (a.type != napi_int32_array) fail(code::kArg, std::string(what) + " must be an Int32Array");
  *words = a.length;
  return static_cast<const int32_t *>(a.data);
}

Napi::Value FlowPrefetchRegister(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    uint32_t shard = argU32(info, 0, "shard");
    if (shard >= kMaxShards) fail(code::kArg, "shard must be below " + std::to_string(kMaxShards));
    size_t w0 = 0, w1 = 0, wl = 0;
    const int32_t *t0 = int32Arg(info, 1, "table6", &w0);
    const int32_t *t1 = int32Arg(info, 2, "table4", &w1);
    const int32_t *list = int32Arg(info, 3, "list", &wl);
    uint32_t ways = argU32(info, 4, "ways");
    if (ways == 0 || ways > 16) fail(code::kArg, "ways must be 1..16");
    prefetchRegister(shard, t0, w0, t1, w1, list, wl, ways);
    return env.Undefined();
  });
}

// Fast path, once per burst: no validation beyond the registered plan's bounds (a prefetch is only
// a hint; an unregistered shard does nothing).
Napi::Value FlowPrefetch(const Napi::CallbackInfo &info) {
  uint32_t shard = info[0].As<Napi::Number>().Uint32Value();
  uint32_t n = info[1].As<Napi::Number>().Uint32Value();
  prefetchSets(shard, n);
  return info.Env().Undefined();
}

// The miss path's tables: (shard, table index, typed array); the array's element size is the unit
// of the indexes missPrefetch receives.
Napi::Value MissPrefetchRegister(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    uint32_t shard = argU32(info, 0, "shard");
    if (shard >= kMaxShards) fail(code::kArg, "shard must be below " + std::to_string(kMaxShards));
    uint32_t table = argU32(info, 1, "table");
    if (table >= kMissTables) fail(code::kArg, "table must be below " + std::to_string(kMissTables));
    TypedArrayArg a = typedArrayArg(info, 2, "missPrefetchRegister: table");
    missPrefetchRegister(shard, table, a.data, a.length == 0 ? 0 : a.bytes / a.length, a.length);
    return env.Undefined();
  });
}

Napi::Value MissPrefetchList(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    uint32_t shard = argU32(info, 0, "shard");
    if (shard >= kMaxShards) fail(code::kArg, "shard must be below " + std::to_string(kMaxShards));
    size_t words = 0;
    const int32_t *list = int32Arg(info, 1, "list", &words);
    missPrefetchList(shard, list, words / 2);
    return env.Undefined();
  });
}

// Fast path, up to a few times per burst with misses: no validation beyond the plan's bounds.
Napi::Value MissPrefetch(const Napi::CallbackInfo &info) {
  uint32_t shard = info[0].As<Napi::Number>().Uint32Value();
  uint32_t n = info[1].As<Napi::Number>().Uint32Value();
  missPrefetch(shard, n);
  return info.Env().Undefined();
}

// A typed array's memory as transparent huge pages; see memory.h.
Napi::Value AdviseHugePages(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    TypedArrayArg a = typedArrayArg(info, 0, "adviseHugePages: view");
    if (a.data == nullptr) return Napi::Number::New(env, 0);
    return Napi::Number::New(env, static_cast<double>(adviseHugePages(a.data, a.bytes)));
  });
}

// Where a typed array's first element sits within a 4 KB page: JS lays tables out on cache lines.
Napi::Value PageOffset(const Napi::CallbackInfo &info) {
  return guarded(info, [&](Napi::Env env) -> Napi::Value {
    TypedArrayArg a = typedArrayArg(info, 0, "pageOffset: view");
    return Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(a.data) & 4095));
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("ealInit", Napi::Function::New(env, EalInit, "ealInit"));
  exports.Set("ealInitialized", Napi::Function::New(env, EalInitialized, "ealInitialized"));
  exports.Set("mempoolCreate", Napi::Function::New(env, MempoolCreate, "mempoolCreate"));
  exports.Set("portProbe", Napi::Function::New(env, PortProbe, "portProbe"));
  exports.Set("portStart", Napi::Function::New(env, PortStart, "portStart"));
  exports.Set("portInfo", Napi::Function::New(env, PortInfo, "portInfo"));
  exports.Set("portStats", Napi::Function::New(env, PortStats, "portStats"));
  exports.Set("portSetMtu", Napi::Function::New(env, PortSetMtu, "portSetMtu"));
  exports.Set("portStop", Napi::Function::New(env, PortStop, "portStop"));
  exports.Set("portClose", Napi::Function::New(env, PortClose, "portClose"));
  exports.Set("shardCreate", Napi::Function::New(env, ShardCreate, "shardCreate"));
  exports.Set("shardAttach", Napi::Function::New(env, ShardAttach, "shardAttach"));
  exports.Set("rx", Napi::Function::New(env, Rx, "rx"));
  exports.Set("tx", Napi::Function::New(env, Tx, "tx"));
  exports.Set("send", Napi::Function::New(env, Send, "send"));
  exports.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  exports.Set("free", Napi::Function::New(env, Free, "free"));
  exports.Set("shardStats", Napi::Function::New(env, ShardStats, "shardStats"));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown, "shutdown"));
  exports.Set("checksumFrame", Napi::Function::New(env, ChecksumFrame, "checksumFrame"));
  exports.Set("fragConfigure", Napi::Function::New(env, FragConfigure, "fragConfigure"));
  exports.Set("fragReassemble", Napi::Function::New(env, FragReassemble, "fragReassemble"));
  exports.Set("flowPrefetchRegister", Napi::Function::New(env, FlowPrefetchRegister, "flowPrefetchRegister"));
  exports.Set("flowPrefetch", Napi::Function::New(env, FlowPrefetch, "flowPrefetch"));
  exports.Set("missPrefetchRegister", Napi::Function::New(env, MissPrefetchRegister, "missPrefetchRegister"));
  exports.Set("missPrefetchList", Napi::Function::New(env, MissPrefetchList, "missPrefetchList"));
  exports.Set("missPrefetch", Napi::Function::New(env, MissPrefetch, "missPrefetch"));
  exports.Set("pageOffset", Napi::Function::New(env, PageOffset, "pageOffset"));
  exports.Set("adviseHugePages", Napi::Function::New(env, AdviseHugePages, "adviseHugePages"));
  exports.Set("fragExpire", Napi::Function::New(env, FragExpire, "fragExpire"));
  exports.Set("genPortCreate", Napi::Function::New(env, GenPortCreate, "genPortCreate"));
  exports.Set("genAttach", Napi::Function::New(env, GenAttach, "genAttach"));
  exports.Set("genZeroPool", Napi::Function::New(env, GenZeroPool, "genZeroPool"));
  exports.Set("genStart", Napi::Function::New(env, GenStart, "genStart"));
  exports.Set("genStop", Napi::Function::New(env, GenStop, "genStop"));
  exports.Set("genPause", Napi::Function::New(env, GenPause, "genPause"));
  exports.Set("genStats", Napi::Function::New(env, GenStats, "genStats"));
  exports.Set("genHistogram", Napi::Function::New(env, GenHistogram, "genHistogram"));
  return exports;
}

}  // namespace
}  // namespace nat64

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return nat64::Init(env, exports); }

NODE_API_MODULE(nat64_native, InitModule)
