/**
 * The frames of `nat64 tester pcap`: one per flow, in flow order, addressed to the daemon's port
 * (its MAC), from the tester's MAC. 6->4 TCP frames are SYNs (they create the sessions, RFC 6146
 * §3.5.2), 4->6 ones SYN+ACKs (the server's answer).
 */
import { ipv4Frame, ipv6Frame, macBytes, TCP_SYN, TCP_SYNACK } from './frames';
import { clientAddress, clientPort, type TesterPlan } from './plan';

export function* frames6to4(plan: TesterPlan): Generator<Uint8Array> {
  const dstMac = macBytes(plan.v6.mac), srcMac = macBytes(plan.opts.testerMac6);
  for (let k = 0; k < plan.opts.flows; k++) {
    yield ipv6Frame(plan.opts.size, plan.opts.proto, {
      dstMac, srcMac, src: clientAddress(plan, k), dst: plan.server6, sport: clientPort(plan, k), dport: plan.serverPort,
    }, TCP_SYN).frame;
  }
}

/** `pool4[k]`: flow k's pool4 transport address (plan.ts pool4OfFlows). */
export function* frames4to6(plan: TesterPlan, pool4: Array<{ addr: number; port: number }>): Generator<Uint8Array> {
  const dstMac = macBytes(plan.v4.mac), srcMac = macBytes(plan.opts.testerMac4);
  for (const t of pool4) {
    yield ipv4Frame(plan.opts.size - 20, plan.opts.proto, {
      dstMac, srcMac, src: plan.server4, dst: t.addr, sport: plan.serverPort, dport: t.port,
    }, TCP_SYNACK).frame;
  }
}
