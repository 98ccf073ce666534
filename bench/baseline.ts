import { Hono } from "hono";
import { signedFetch } from "./sign";

/**
 * The benchmark's passthrough: the ~20-line worker someone might write instead of the proxy. It
 * validates nothing, keeps no state (no Durable Object) and forwards Diyalog's create and cancel,
 * signed, to the same upstream the proxy and the floor talk to. `npm run bench` compares against it.
 */
const app = new Hono<{ Bindings: { UPSTREAM_URL: string; UPSTREAM_SIGNING_SECRET: string } }>();

app.post("/CreateInteraction", async (c) => {
  const { customerId } = await c.req.json<{ customerId: string }>();
  const interactionId = crypto.randomUUID();
  const body = JSON.stringify({ type: "create", interactionId, customerId });
  const upstream = await signedFetch(`${c.env.UPSTREAM_URL}/interactions`, c.env.UPSTREAM_SIGNING_SECRET, "POST", body);
  const { id } = await upstream.json<{ id: string }>();
  return c.json({ success: true, errorMessage: null, result: { interactionId: id } });
});

app.delete("/:id", async (c) => {
  const body = JSON.stringify({ type: "cancel", interactionId: c.req.param("id"), upstreamId: c.req.param("id") });
  const upstream = await signedFetch(`${c.env.UPSTREAM_URL}/interactions/${c.req.param("id")}`, c.env.UPSTREAM_SIGNING_SECRET, "DELETE", body);
  await upstream.body?.cancel();
  return c.json({ success: true, errorMessage: null, result: { interactionId: c.req.param("id"), state: "cancelled" } });
});

export default app;
