import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("creates, reads and cancels", async () => {
  const headers = { authorization: "Bearer test-key", "content-type": "application/json" };
  const res = await exports.default.fetch("http://proxy/CreateInteraction", {
    method: "POST",
    headers,
    body: JSON.stringify({ customerId: "123456", attachedData: [{ TRX: "Diyalog" }] }),
  });
  const body = await res.json<any>();
  console.log(res.status, body);
  const id = body.result.interactionId;
  const get = await exports.default.fetch(`http://proxy/v1/interactions/${id}`, { headers });
  console.log(get.status, JSON.stringify(await get.json()));
  const del = await exports.default.fetch(`http://proxy/${id}`, { method: "DELETE", headers });
  console.log(del.status, JSON.stringify(await del.json()));
});
