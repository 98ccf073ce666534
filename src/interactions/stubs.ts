/** Durable Object addresses: every one is derived from a name or from the interaction id, so routing needs no lookup. */
import { objectConfig, varText } from "../config";
import { base64url, customerDigest } from "../security/customer-ref";
import type { CancelOutcome, ClaimOutcome, Told } from "./interaction-core";
import type { Interaction, State } from "./machine";

/**
 * Every namespace that holds personal data is reached through here, so `DATA_JURISDICTION` (data
 * residency, design §6) applies to every object that holds it: each is created, and found, in that
 * jurisdiction only. An id made under another jurisdiction (or none) is not found under this one.
 */
export function personalData<T extends Rpc.DurableObjectBranded | undefined>(env: Env, namespace: DurableObjectNamespace<T>): DurableObjectNamespace<T> {
  const { jurisdiction } = objectConfig(env).config;
  if (!jurisdiction) return namespace;
  try {
    return namespace.jurisdiction(jurisdiction);
  } catch (err) {
    // Local workerd (wrangler dev, the tests) has no jurisdictions ("not implemented in workerd"):
    // there the objects are local anyway. A production deployment never runs without one.
    if (varText((env as { ENVIRONMENT?: unknown }).ENVIRONMENT) === "production") throw err;
    return namespace;
  }
}

/**
 * The customer's Durable Object (`CustomerInteractions`), named by the keyed digest of the customerId,
 * and the customer's reference for log lines (its first 16 characters).
 */
export async function customerObject(env: Env, customerId: string) {
  const namespace = personalData(env, env.CUSTOMER_INTERACTIONS);
  const digest = await customerDigest(env as { CUSTOMER_REF_KEY?: string }, customerId);
  return { stub: namespace.get(namespace.idFromName(digest)), customerRef: digest.slice(0, 16) };
}

/** The customer's Durable Object alone. */
export async function customerStub(env: Env, customerId: string) {
  return (await customerObject(env, customerId)).stub;
}

/**
 * Interaction ids: the customer object's id (64 hex digits) and 128 random bits (22 base64url
 * characters); 86 URL-safe characters. Anything else (the v4 UUIDs of the layout before one object
 * per customer included) names no interaction.
 */
const INTERACTION_ID = /^[0-9a-f]{64}[A-Za-z0-9_-]{22}$/;

export function isInteractionId(raw: string): boolean {
  return INTERACTION_ID.test(raw);
}

/** A fresh interaction id in the customer object `objectId`. */
export function newInteractionId(objectId: string): string {
  return objectId + base64url(crypto.getRandomValues(new Uint8Array(16)));
}

/** What the routes ask of an interaction, wherever it is stored. */
export interface InteractionStub {
  /** `log`: the transitions the cancel caused, for the request's log line. */
  cancel(interactionId: string, requestId?: string): Promise<CancelOutcome & { log?: Told }>;
  claim(interactionId: string, agentId?: string, tell?: boolean): Promise<ClaimOutcome & { log?: Told }>;
  /** `reason`: the upstream's free text, kept encrypted on the timeline and never logged. */
  upstreamEvent(interactionId: string, kind: "abandoned" | "completed" | "failed", reason?: string): Promise<{ state: State; log?: Told } | null>;
  get(interactionId: string): Promise<Interaction | null>;
}

/** Answers for an id that names no object: no such interaction. */
const NOWHERE: InteractionStub = {
  cancel: async () => ({ kind: "not_found" }),
  claim: async () => ({ proceed: false, reason: "not_found" }),
  upstreamEvent: async () => null,
  get: async () => null,
};

/** The object holding the interaction `interactionId` (a well-formed id that names no object finds nothing). */
export function interactionStub(env: Env, interactionId: string): InteractionStub {
  if (!INTERACTION_ID.test(interactionId)) return NOWHERE;
  const namespace = personalData(env, env.CUSTOMER_INTERACTIONS);
  let id: DurableObjectId;
  try {
    id = namespace.idFromString(interactionId.slice(0, 64));
  } catch {
    return NOWHERE; // not an id of this namespace
  }
  return namespace.get(id) as unknown as InteractionStub;
}

/** The embedded simulator's one queue. */
export function simulatorStub(env: Env) {
  return env.SIMULATOR.get(env.SIMULATOR.idFromName("simulator"));
}
