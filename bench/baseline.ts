import { Hono } from "hono";

/**
 * The benchmark's baseline: the ~20-line passthrough someone might write instead of the proxy.
 * It validates nothing, keeps no state (no Durable Object), signs nothing, and forwards Diyalog's
 * create and cancel to the same upstream the proxy talks to. `npm run bench` compares against it.
 */
const app = new Hono<{ Bindings: { UPSTREAM_URL: string } }>();

app.post("/CreateInteraction", async (c) => {
  const upstream = await fetch(`${c.env.UPSTREAM_URL}/interactions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: await c.req.text(),
  });
  const { id } = await upstream.json<{ id: string }>();
  return c.json({ success: true, errorMessage: null, result: { interactionId: id } });
});

app.delete("/:id", async (c) => {
  const upstream = await fetch(`${c.env.UPSTREAM_URL}/interactions/${c.req.param("id")}`, { method: "DELETE" });
  await upstream.body?.cancel();
  return c.json({ success: true, errorMessage: null, result: { interactionId: c.req.param("id"), state: "cancelled" } });
});

export default app;
