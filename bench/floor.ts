import { DurableObject } from "cloudflare:workers";
import { signedFetch } from "./sign";

/**
 * The benchmark's floor: the least a worker can do and still keep "one active call per customer"
 * and "cancel before assign" durable. One Durable Object per customer (one hop); the intent is stored
 * before the signed upstream call and the acceptance before answering. No validation, logs, retries
 * or veto routes. The interaction id is the object's id + a random part, so a cancel needs no lookup.
 */
type Env = { CALLS: DurableObjectNamespace<Calls>; UPSTREAM_URL: string; UPSTREAM_SIGNING_SECRET: string };
type Call = { id: string; state: string; upstreamId?: string };
const send = (env: Env, method: string, path: string, body: object) =>
  signedFetch(`${env.UPSTREAM_URL}${path}`, env.UPSTREAM_SIGNING_SECRET, method, JSON.stringify(body));

export class Calls extends DurableObject<Env> {
  async create(customerId: string): Promise<string> {
    const kv = this.ctx.storage.kv, current = kv.get<Call>("call");
    if (current && (current.state === "dispatching" || current.state === "queued")) return current.id;
    const id = `${this.ctx.id.toString()}${crypto.randomUUID().replaceAll("-", "")}`;
    kv.put("call", { id, state: "dispatching" });
    const res = await send(this.env, "POST", "/interactions", { type: "create", interactionId: id, customerId });
    kv.put("call", { id, state: "queued", upstreamId: ((await res.json()) as { id: string }).id });
    return id;
  }
  async cancel(id: string): Promise<string> {
    const kv = this.ctx.storage.kv, call = kv.get<Call>("call");
    if (call?.id !== id || call.state !== "queued") return call?.id === id ? call.state : "not_found";
    kv.put("call", { ...call, state: "cancelling" });
    const res = await send(this.env, "DELETE", `/interactions/${call.upstreamId}`, { type: "cancel", interactionId: id, upstreamId: call.upstreamId });
    await res.body?.cancel();
    kv.put("call", { ...call, state: "cancelled" });
    return "cancelled";
  }
}

const json = (result: object) => Response.json({ success: true, errorMessage: null, result });
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (request.method === "POST") {
      const { customerId } = await request.json<{ customerId: string }>();
      return json({ interactionId: await env.CALLS.getByName(customerId).create(customerId) });
    }
    const id = path.slice(1);
    return json({ interactionId: id, state: await env.CALLS.get(env.CALLS.idFromString(id.slice(0, 64))).cancel(id) });
  },
} satisfies ExportedHandler<Env>;
