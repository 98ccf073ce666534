import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { signedHeaders } from "../fakes/http-upstream";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const headers = { authorization: "Bearer test-key", "content-type": "application/json" };

it("http smoke", async () => {
  await fetch("http://127.0.0.1:9/__control/reset", { method: "POST" });
  const res = await exports.default.fetch("http://proxy/CreateInteraction", {
    method: "POST",
    headers,
    body: JSON.stringify({ customerId: "c-1", attachedData: [{ TRX: "Diyalog" }], identityNumber: "12345678901" }),
  });
  const body = await res.json<any>();
  console.log(res.status, JSON.stringify(body));
  const id = body.result.interactionId;
  const claimBody = JSON.stringify({ agentId: "a1" });
  const claim = await exports.default.fetch(`http://proxy/v1/upstream/interactions/${id}/claim`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(await signedHeaders(SECRET, claimBody)) },
    body: claimBody,
  });
  console.log(claim.status, await claim.text());
  const del = await exports.default.fetch(`http://proxy/${id}`, { method: "DELETE", headers });
  console.log(del.status, await del.text());
  const state = await (await fetch("http://127.0.0.1:9/__control/state")).json();
  console.log(JSON.stringify(state));
  expect(res.status).toBe(200);
});
