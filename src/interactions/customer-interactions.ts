import { DurableObject } from "cloudflare:workers";
import { objectConfig } from "../config";
import { objectAdapter } from "../upstreams";
import type { CreateInteraction } from "../diyalog/create-request";
import { InteractionCore, type CancelOutcome, type ClaimOutcome, type CreateOutcome, type Host, type Told } from "./interaction-core";
import { CustomerCalls, isLater } from "./customer-calls";
import { mayResend, type Interaction, type State } from "./machine";
import { newInteractionId } from "./stubs";
import { metricSink } from "../observability/metrics";
import { log } from "../observability/log";
import { decryptJson, decryptText, encryptJson, encryptText } from "../security/personal-data";

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
 * A record as stored (design §6): customerId and attribute values only as one AES-256-GCM value
 * (`sealed`), identityNumber as another (`sealedIdentity`, dropped once the create cannot be sent
 * again), timeline free text already encrypted; the rest are states, times, ids and codes.
 * Records stored before encryption hold the fields in clear and are sealed when first loaded.
 */
type StoredRecord = Omit<Interaction, "customerId" | "attributes" | "identityNumber"> &
  Partial<Pick<Interaction, "customerId" | "attributes" | "identityNumber">> & { sealed?: string; sealedIdentity?: string };

/** The ciphertexts of an interaction's personal fields, made once (at create, or when loaded). */
type Seals = { sealed?: string; sealedIdentity?: string };

/** An erasure's answer for the customer (design §6). */
export interface Erasure {
  erased: number;
  cancelled: string[];
  cancelUnconfirmed: string[];
  log: Told;
}

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
  /** PERSONAL_DATA_KEYS (the development keys when empty). */
  private readonly keys: string[];
  /** Stored records decrypted when the instance started, until their core loads them. */
  private readonly opened = new Map<string, Interaction>();
  private readonly seals = new Map<string, Seals>();
  private opening: Promise<void> | undefined;

  /** Never throws (see `hostBase`). */
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.base = hostBase(ctx, env);
    this.keys = objectConfig(env).config.personalDataKeys;
    this.calls = new CustomerCalls({
      latest: () => (this.stored(), this.latest),
      create: async (input, told) => {
        // A new interaction's personal fields are encrypted before its record is first stored.
        if (!input.existing) await this.seal(input.interactionId, input);
        return this.core(input.interactionId).create(input, told);
      },
      newId: () => newInteractionId(ctx.id.toString()),
    });
  }

  /**
   * Once per instance, before anything else: decrypts the stored records (sealing any stored before
   * encryption) and reads the stored alarm, before anything may move it. An object with no record
   * has none (the purge of the last record deletes it), so a new customer's create reads nothing.
   */
  private ready(): Promise<void> {
    return (this.opening ??= this.open());
  }

  private async open(): Promise<void> {
    const records = this.list();
    await Promise.all(records.map(([key, record]) => this.unseal(key.slice(RECORD.length), record)));
    const stored = records.length ? await this.ctx.storage.getAlarm() : null;
    if (this.alarmAt === undefined) this.alarmAt = stored;
  }

  /** Encrypts a new interaction's personal fields (kept in `seals` for every later store). */
  private async seal(interactionId: string, input: Pick<Interaction, "customerId" | "attributes" | "identityNumber">): Promise<void> {
    const [sealed, sealedIdentity] = await Promise.all([
      encryptJson(this.keys, [input.customerId, input.attributes], `${interactionId}/data`),
      input.identityNumber === undefined ? undefined : encryptText(this.keys, input.identityNumber, `${interactionId}/identity`),
    ]);
    this.seals.set(interactionId, sealedIdentity === undefined ? { sealed } : { sealed, sealedIdentity });
  }

  /** A stored record as the core works with it, decrypted; an unreadable value reads as erased data, with a warning. */
  private async unseal(interactionId: string, record: StoredRecord): Promise<void> {
    const { sealed, sealedIdentity, ...rest } = record;
    let ix = rest as Interaction;
    if (sealed === undefined && ix.customerId !== undefined) {
      // Stored in clear before records were encrypted: sealed now.
      await this.seal(interactionId, ix);
      this.ctx.storage.kv.put(RECORD + interactionId, this.sealedRecord(interactionId, ix));
    } else {
      this.seals.set(interactionId, { ...(sealed === undefined ? {} : { sealed }), ...(sealedIdentity === undefined ? {} : { sealedIdentity }) });
      const [data, identity] = await Promise.all([
        sealed === undefined ? undefined : decryptJson<[string, Record<string, string>]>(this.keys, sealed, `${interactionId}/data`),
        sealedIdentity === undefined ? undefined : decryptText(this.keys, sealedIdentity, `${interactionId}/identity`),
      ]);
      for (const result of [data, identity]) {
        if (result?.ok === false) log("warn", "personal data unreadable", { interactionId, customerRef: ix.customerRef, reason: result.reason });
      }
      ix = { ...ix, customerId: data?.ok ? data.value[0] : "", attributes: data?.ok ? data.value[1] : {} };
      if (identity?.ok) ix.identityNumber = identity.value;
    }
    this.opened.set(interactionId, ix);
  }

  /**
   * The record as stored: personal fields replaced by their ciphertexts, which go once erased or
   * minimised (`minimised`). A ciphertext that could not be decrypted (its key is no longer
   * configured) is kept as it was: the key may come back.
   */
  private sealedRecord(interactionId: string, ix: Interaction): StoredRecord {
    const { customerId: _customerId, attributes: _attributes, identityNumber: _identity, ...record } = ix;
    const seals = this.seals.get(interactionId) ?? {};
    const stored: StoredRecord = record;
    const erased = ix.erased && !mayResend(ix);
    if (!erased && seals.sealed !== undefined) stored.sealed = seals.sealed;
    if (mayResend(ix) && seals.sealedIdentity !== undefined) stored.sealedIdentity = seals.sealedIdentity;
    return stored;
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
      load: () => {
        const ix = this.opened.get(interactionId);
        this.opened.delete(interactionId);
        return ix;
      },
      store: (ix) => {
        kv.put(key, this.sealedRecord(interactionId, ix));
        // A record stored for the first time is a new interaction: the customer's latest.
        if (!this.stored().has(interactionId)) this.ids!.add((this.latest = interactionId));
      },
      setAlarm: (at) => this.want(interactionId, at),
      deleteAll: async () => {
        this.wants.delete(interactionId);
        this.cores.delete(interactionId);
        this.seals.delete(interactionId);
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
    return this.ids ?? (this.list(), this.ids!);
  }

  /** Lists the stored records (one `list`), noting their ids and the latest of them for `stored`. */
  private list(): [string, StoredRecord][] {
    const records = [...this.ctx.storage.kv.list<StoredRecord>({ prefix: RECORD })];
    let latest: StoredRecord | undefined;
    for (const [, ix] of records) if (isLater(ix, latest)) latest = ix;
    this.latest = latest?.interactionId;
    this.ids = new Set(records.map(([key]) => key.slice(RECORD.length)));
    return records;
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

  /**
   * Creates the customer's call; `log` carries the transitions it caused, for the request's log line.
   * `customerRef`: the customer's keyed reference, kept with the interaction for its log lines.
   */
  async create(input: CreateInteraction & { requestId?: string; customerRef?: string }): Promise<CreateOutcome & { log: Told }> {
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

  /** What a request's log line tells about the interaction: its customer's keyed reference. */
  private about(core: InteractionCore, interactionId: string): Told {
    return { customerRef: core.get(interactionId)?.customerRef };
  }

  /** Diyalog's cancel; `log` carries the transitions it caused, for the request's log line. */
  async cancel(interactionId: string, requestId?: string): Promise<CancelOutcome & { log?: Told }> {
    await this.ready();
    const core = this.held(interactionId);
    if (!core) return { kind: "not_found" };
    const told = this.about(core, interactionId);
    return { ...(await core.cancel(interactionId, requestId, told)), log: told };
  }

  /** The upstream's claim; with `tell`, the transition goes to `log` for the request's line instead of a line of its own. */
  async claim(interactionId: string, agentId?: string, tell = false): Promise<ClaimOutcome & { log?: Told }> {
    await this.ready();
    const core = this.held(interactionId);
    if (!core) return { proceed: false, reason: "not_found" };
    const told = this.about(core, interactionId);
    return { ...core.claim(interactionId, agentId, tell ? told : undefined), log: told };
  }

  /** An upstream's lifecycle event; its free text (`reason`) is kept encrypted on the timeline only. */
  async upstreamEvent(interactionId: string, kind: "abandoned" | "completed" | "failed", reason?: string): Promise<{ state: State; log: Told } | null> {
    await this.ready();
    const core = this.held(interactionId);
    if (!core) return null;
    const text = reason ? await encryptText(this.keys, reason, `${interactionId}/text`) : undefined;
    const state = core.upstreamEvent(interactionId, kind, text);
    return state === null ? null : { state, log: this.about(core, interactionId) };
  }

  /** The interaction with its timeline's free text decrypted, for a read. */
  async get(interactionId: string): Promise<Interaction | null> {
    await this.ready();
    const ix = this.held(interactionId)?.get(interactionId);
    if (!ix) return null;
    const timeline = await Promise.all(
      ix.timeline.map(async (entry) => {
        if (entry.text === undefined) return entry;
        const text = await decryptText(this.keys, entry.text, `${interactionId}/text`);
        return { ...entry, text: text.ok ? text.value : `(unreadable: ${text.reason})` };
      }),
    );
    return { ...ix, timeline };
  }

  /** Every interaction of the customer this object holds, newest first (design §6, lookup). */
  async lookup(customerId: string): Promise<Interaction[]> {
    await this.ready();
    const found: Interaction[] = [];
    for (const id of this.mine(customerId)) {
      const ix = await this.get(id);
      if (ix) found.push(ix);
    }
    return found.sort((a, b) => b.createdAt - a.createdAt);
  }

  /**
   * The ids of the customer's interactions. One without its customerId (erased, or sealed under a key
   * no longer configured) is still its object's customer's: the object is named by the customerId.
   */
  private mine(customerId: string): string[] {
    return [...this.stored()].filter((id) => {
      const ix = this.core(id).get(id);
      return ix !== null && (ix.customerId === "" || ix.customerId === customerId);
    });
  }

  /**
   * Erasure (design §6): every interaction of the customer loses its personal fields, and a call
   * still waiting is cancelled as Diyalog's DELETE would.
   */
  async erase(customerId: string, requestId?: string): Promise<Erasure> {
    await this.ready();
    const erasure: Erasure = { erased: 0, cancelled: [], cancelUnconfirmed: [], log: {} };
    await Promise.all(
      this.mine(customerId).map(async (id) => {
        const outcome = await this.core(id).erase(id, requestId, erasure.log);
        if (outcome?.kind === "not_found") return;
        erasure.erased += 1;
        if (outcome?.kind === "unconfirmed") erasure.cancelUnconfirmed.push(id);
        else if (outcome?.kind === "cancelling" || (outcome?.kind === "done" && outcome.state === "cancelled")) erasure.cancelled.push(id);
      }),
    );
    return erasure;
  }

  /** Runs every stored interaction's alarm, then sets the stored alarm to the earliest wake-up wanted. */
  override async alarm(): Promise<void> {
    await this.ready();
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
