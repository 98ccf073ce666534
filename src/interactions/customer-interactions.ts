import { DurableObject } from "cloudflare:workers";
import { objectConfig } from "../config";
import { objectAdapter } from "../upstreams";
import type { CreateInteraction } from "../diyalog/create-request";
import { InteractionCore, type CancelOutcome, type ClaimOutcome, type CreateOutcome, type Host, type Told } from "./interaction-core";
import { CustomerCalls } from "./customer-calls";
import type { Interaction, State } from "./machine";
import { newInteractionId } from "./stubs";
import { metricSink } from "../observability/metrics";

/**
 * What every interaction core of an object shares: the configured upstream adapter and settings,
 * the clock and timers. Never throws: under an invalid configuration the object still starts, with
 * an adapter that cannot reach the upstream (see `objectAdapter`), so reads, recorded cancels,
 * expiries and purges go on.
 */
export function hostBase(ctx: DurableObjectState, env: Env): Omit<Host, "load" | "store" | "deleteAll" | "setAlarm"> {
  const { config, upstream } = objectConfig(env);
  return {
    adapter: objectAdapter(config, upstream, env),
    settings: {
      upstreamTimeoutMs: config.upstreamTimeoutMs,
      createDeadlineMs: config.createDeadlineMs,
      queueTimeoutMs: config.queueTimeoutSeconds * 1000,
      retentionMs: config.retentionSeconds * 1000,
    },
    now: () => Date.now(),
    sleep: (ms, cancel) =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        cancel?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
      }),
    timeout: (ms) => AbortSignal.timeout(ms),
    waitUntil: (work) => ctx.waitUntil(work),
    metric: metricSink(env.METRICS),
  };
}

/** Storage key of an interaction's record. */
const RECORD = "ix:";

/**
 * One Durable Object per customer (named by the keyed digest of the customerId), holding all of that
 * customer's interactions: a create is one hop, the one-active-call rule is checked where the
 * records are (`CustomerCalls`), and a read or cancel reaches the object from the interaction id.
 * Each interaction is an `InteractionCore` over its own record; the object gives the cores storage,
 * timers, the upstream adapter and one alarm shared by all of them: each core's wanted wake-up is
 * kept in memory, and the stored alarm is only ever moved earlier while requests run (an early
 * alarm is harmless: every core's `alarm` finishes only what is due) and set exactly when it fires,
 * after every stored interaction has been looked at.
 */
export class CustomerInteractions extends DurableObject<Env> {
  private readonly cores = new Map<string, InteractionCore>();
  /** When each loaded core wants its next alarm. */
  private readonly wants = new Map<string, number>();
  /** The stored alarm, as this instance last read or set it (null: none; undefined: not read yet). */
  private alarmAt: number | null | undefined;
  /** The stored records' ids and the latest of them (see `stored`); undefined: not read yet. */
  private ids: Set<string> | undefined;
  private latest: string | undefined;
  private readonly calls: CustomerCalls;
  private readonly base: ReturnType<typeof hostBase>;

  /** Never throws (see `hostBase`). */
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.base = hostBase(ctx, env);
    this.calls = new CustomerCalls({
      latest: () => (this.stored(), this.latest),
      create: (input, told) => this.core(input.interactionId).create(input, told),
      newId: () => newInteractionId(ctx.id.toString()),
    });
  }

  /**
   * Reads the stored alarm once per instance, before anything may move it. An object with no record
   * has none (the purge of the last record deletes it), so a new customer's create reads nothing.
   */
  private async ready(): Promise<void> {
    if (this.alarmAt !== undefined) return;
    const stored = this.stored().size ? await this.ctx.storage.getAlarm() : null;
    if (this.alarmAt === undefined) this.alarmAt = stored;
  }

  /**
   * The core of one interaction, made on first use (one for an id this object does not hold finds
   * nothing: every method answers "no such interaction").
   */
  private core(interactionId: string): InteractionCore {
    let core = this.cores.get(interactionId);
    if (core) return core;
    const key = RECORD + interactionId;
    const kv = this.ctx.storage.kv;
    core = new InteractionCore({
      ...this.base,
      load: () => kv.get<Interaction>(key),
      store: (ix) => {
        kv.put(key, ix);
        // A record stored for the first time is a new interaction: the customer's latest.
        if (!this.stored().has(interactionId)) this.ids!.add((this.latest = interactionId));
      },
      setAlarm: (at) => this.want(interactionId, at),
      deleteAll: async () => {
        this.wants.delete(interactionId);
        this.cores.delete(interactionId);
        const ids = this.stored();
        ids.delete(interactionId);
        if (this.latest === interactionId) this.ids = undefined; // the latest is read again when next needed
        if (ids.size) kv.delete(key);
        else {
          // The last one: nothing of the customer stays, the alarm goes too.
          const deleted = this.ctx.storage.deleteAll();
          this.alarmAt = null; // before anything else may run and set a new one
          await deleted;
        }
      },
    });
    this.cores.set(interactionId, core);
    return core;
  }

  /**
   * The ids of the stored records, read from storage once per instance (one `list`, which also finds
   * the latest) and then kept up to date by `store` and `deleteAll`: this object is the only writer
   * of its storage, so no request lists the records again.
   */
  private stored(): Set<string> {
    if (this.ids) return this.ids;
    let latest: Interaction | undefined;
    const ids = new Set<string>();
    for (const [key, ix] of this.ctx.storage.kv.list<Interaction>({ prefix: RECORD })) {
      ids.add(key.slice(RECORD.length));
      if (!latest || ix.createdAt >= latest.createdAt) latest = ix;
    }
    this.latest = latest?.interactionId;
    return (this.ids = ids);
  }

  /** A core wants its alarm at `at` (or none): the stored alarm moves only earlier here. */
  private want(interactionId: string, at: number | undefined): void {
    if (at === undefined) this.wants.delete(interactionId);
    else this.wants.set(interactionId, at);
    // (`ready` ran first: every way in awaits it; unknown would count as none, which is still safe
    // for the wanting core but could move another core's earlier alarm later.)
    if (at !== undefined && (this.alarmAt == null || at < this.alarmAt)) {
      this.alarmAt = at;
      void this.ctx.storage.setAlarm(at);
    }
  }

  /** Creates the customer's call; `log` carries the transitions it caused, for the request's log line. */
  async create(input: CreateInteraction & { requestId?: string }): Promise<CreateOutcome & { log: Told }> {
    await this.ready();
    const told: Told = {};
    return { ...(await this.calls.create(input, told)), log: told };
  }


  /**
   * The core of an interaction this object holds (in memory or stored); none for any other id, so a
   * read or cancel of a made-up id leaves nothing behind in the object.
   */
  private held(interactionId: string): InteractionCore | undefined {
    return this.cores.get(interactionId) ?? (this.stored().has(interactionId) ? this.core(interactionId) : undefined);
  }

  /** Diyalog's cancel; `log` carries the transitions it caused, for the request's log line. */
  async cancel(interactionId: string, requestId?: string): Promise<CancelOutcome & { log?: Told }> {
    await this.ready();
    const told: Told = {};
    const core = this.held(interactionId);
    return core ? { ...(await core.cancel(interactionId, requestId, told)), log: told } : { kind: "not_found" };
  }

  /** The upstream's claim; with `tell`, the transition goes to `log` for the request's line instead of a line of its own. */
  async claim(interactionId: string, agentId?: string, tell = false): Promise<ClaimOutcome & { log?: Told }> {
    await this.ready();
    const told: Told | undefined = tell ? {} : undefined;
    const core = this.held(interactionId);
    return core ? { ...core.claim(interactionId, agentId, told), log: told } : { proceed: false, reason: "not_found" };
  }

  async upstreamEvent(interactionId: string, kind: "abandoned" | "completed" | "failed", reason?: string): Promise<State | null> {
    await this.ready();
    return this.held(interactionId)?.upstreamEvent(interactionId, kind, reason) ?? null;
  }

  get(interactionId: string): Interaction | null {
    return this.held(interactionId)?.get(interactionId) ?? null;
  }

  /** Runs every stored interaction's alarm, then sets the stored alarm to the earliest wake-up wanted. */
  override async alarm(): Promise<void> {
    this.alarmAt = null; // a fired alarm is no longer stored
    await Promise.all([...this.stored()].map((id) => this.core(id).alarm()));
    let next: number | undefined;
    for (const at of this.wants.values()) if (next === undefined || at < next) next = at;
    if (next !== undefined && next !== this.alarmAt) {
      this.alarmAt = next;
      await this.ctx.storage.setAlarm(next);
    }
  }
}
