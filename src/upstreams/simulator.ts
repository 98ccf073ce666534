import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../config";
import { interactionStub, simulatorStub } from "../interactions/stubs";
import type { CancelResult, DispatchRequest, DispatchResult, UpstreamAdapter, UpstreamRef } from "./adapter";

/**
 * The embedded upstream: one Durable Object simulating a call-center queue with `SIM_AGENTS`
 * agents. A free agent takes the oldest interaction that has waited `SIM_ASSIGN_DELAY_MS`, but only
 * after asking the proxy (the same claim veto a real upstream uses), then stays busy `SIM_HANDLE_MS`.
 */

interface QueuedCall {
  interactionId: string;
  enqueuedAt: number;
}

interface Agent {
  id: string;
  busyUntil: number;
  interactionId?: string;
}

export interface SimulatorSnapshot {
  agents: { id: string; busy: boolean; busyForMs: number; interactionId?: string }[];
  queue: { interactionId: string; waitingMs: number }[];
}

const ASSIGNED_MEMORY = 1000;

function upstreamIdFor(interactionId: string): string {
  return `sim-${interactionId}`;
}

export class SimulatorObject extends DurableObject<Env> {
  private claiming = new Set<string>();

  private get settings() {
    const result = getConfig(this.env);
    return result.ok ? result.config.simulator : { agents: 2, assignDelayMs: 3000, handleMs: 30_000 };
  }

  private queue(): QueuedCall[] {
    return this.ctx.storage.kv.get<QueuedCall[]>("queue") ?? [];
  }

  private agents(): Agent[] {
    const stored = this.ctx.storage.kv.get<Agent[]>("agents") ?? [];
    const { agents } = this.settings;
    const byId = new Map(stored.map((a) => [a.id, a]));
    return Array.from({ length: agents }, (_, i) => byId.get(`agent-${i + 1}`) ?? { id: `agent-${i + 1}`, busyUntil: 0 });
  }

  /** Agent ids by interaction, for calls an agent already took (answers a late cancel with "too late"). */
  private assigned(): Record<string, string> {
    return this.ctx.storage.kv.get<Record<string, string>>("assigned") ?? {};
  }

  /** Puts a call in the queue; a repeat of the same interaction is the same call. */
  enqueue(interactionId: string): string {
    const queue = this.queue();
    if (!queue.some((q) => q.interactionId === interactionId) && !(interactionId in this.assigned())) {
      queue.push({ interactionId, enqueuedAt: Date.now() });
      this.ctx.storage.kv.put("queue", queue);
    }
    this.schedule();
    return upstreamIdFor(interactionId);
  }

  /** Takes a call out of the queue: cancelled if it was waiting (or unknown), too late if an agent has it. */
  remove(interactionId: string): CancelResult {
    const agentId = this.assigned()[interactionId];
    if (agentId !== undefined) return { kind: "too_late", agentId };
    const queue = this.queue();
    const rest = queue.filter((q) => q.interactionId !== interactionId);
    if (rest.length !== queue.length) this.ctx.storage.kv.put("queue", rest);
    return { kind: "cancelled" };
  }

  snapshot(): SimulatorSnapshot {
    const now = Date.now();
    return {
      agents: this.agents().map((a) => {
        const busy = a.busyUntil > now;
        return busy && a.interactionId
          ? { id: a.id, busy, busyForMs: a.busyUntil - now, interactionId: a.interactionId }
          : { id: a.id, busy, busyForMs: busy ? a.busyUntil - now : 0 };
      }),
      queue: this.queue().map((q) => ({ interactionId: q.interactionId, waitingMs: now - q.enqueuedAt })),
    };
  }

  /** Wakes when the next agent could take the next call. */
  private schedule(): void {
    const now = Date.now();
    const queue = this.queue().filter((q) => !this.claiming.has(q.interactionId));
    if (queue.length === 0) return;
    const freeAt = Math.min(...this.agents().map((a) => a.busyUntil));
    if (!Number.isFinite(freeAt)) return; // no agents at all
    const readyAt = queue[0]!.enqueuedAt + this.settings.assignDelayMs;
    void this.ctx.storage.setAlarm(Math.max(now, freeAt, readyAt));
  }

  override async alarm(): Promise<void> {
    const { assignDelayMs, handleMs } = this.settings;
    for (;;) {
      const now = Date.now();
      const agent = this.agents().find((a) => a.busyUntil <= now);
      const call = this.queue().find((q) => !this.claiming.has(q.interactionId) && q.enqueuedAt + assignDelayMs <= now);
      if (!agent || !call) break;
      this.claiming.add(call.interactionId);
      let proceed = false;
      try {
        proceed = (await interactionStub(this.env, call.interactionId).claim(call.interactionId, agent.id)).proceed;
      } finally {
        this.claiming.delete(call.interactionId);
      }
      // Either way the call leaves the queue: taken by the agent, or vetoed by the proxy.
      this.ctx.storage.kv.put("queue", this.queue().filter((q) => q.interactionId !== call.interactionId));
      if (proceed) {
        const agents = this.agents().map((a) =>
          a.id === agent.id ? { id: a.id, busyUntil: Date.now() + handleMs, interactionId: call.interactionId } : a,
        );
        this.ctx.storage.kv.put("agents", agents);
        const assigned = this.assigned();
        assigned[call.interactionId] = agent.id;
        const keys = Object.keys(assigned);
        for (const old of keys.slice(0, Math.max(0, keys.length - ASSIGNED_MEMORY))) delete assigned[old];
        this.ctx.storage.kv.put("assigned", assigned);
      }
    }
    this.schedule();
  }
}

/** The adapter the interaction uses to reach the simulator: Durable Object RPC, no network. */
export function simulatorAdapter(env: Env): UpstreamAdapter {
  const stub = () => simulatorStub(env);
  return {
    name: "simulator",
    canVeto: true,
    async dispatch(request: DispatchRequest): Promise<DispatchResult> {
      return { kind: "accepted", upstreamId: await stub().enqueue(request.interactionId) };
    },
    async cancel(ref: UpstreamRef): Promise<CancelResult> {
      return stub().remove(ref.interactionId);
    },
  };
}
