import { afterEach, describe, expect, it } from "vitest";
import {
  authHeaders,
  cancel,
  cleanup,
  createOk,
  getInteraction,
  masked,
  postCreate,
  randomDigits,
  getShowing,
  sampleBody,
  track,
  INTERACTION_ID,
} from "./helpers";

/** Create (design §1 "Create request" / "Create response") and the masked read view. */

afterEach(cleanup);

const EXPECTED_ATTRIBUTES = {
  1: { TRX: "Diyalog", PrimaryProjectManagerId: "123456", SecondaryProjectManagerId: "654321" },
  2: { TRX: "Diyalog", PrimaryProjectManagerId: "123456", SecondaryProjectManagerId: "654321" },
  3: { TRX: "Diyalog", PrimaryProjectManagerId: "123456" },
} as const;

describe.each(["/CreateInteraction", "/v1/interactions"])("create on %s", (path) => {
  it.each([1, 2, 3] as const)("accepts attachedData shape %i and GET shows it queued and masked", async (shape) => {
    const customerId = crypto.randomUUID();
    const identityNumber = randomDigits(11);
    const id = await createOk(sampleBody(customerId, shape, identityNumber), path);

    const read = await getInteraction(id);
    expect(read.status, read.text).toBe(200);
    const view = read.body.result;
    for (const field of ["interactionId", "state", "upstream", "attributes", "customerId", "identityNumber", "timeline"]) {
      expect(view, `GET result has ${field}`).toHaveProperty(field);
    }
    expect(view.interactionId).toBe(id);
    expect(view.state).toBe("queued");
    expect(view.attributes).toEqual(EXPECTED_ATTRIBUTES[shape]);
    expect(view.customerId).toBe(masked(customerId));
    expect(view.customerId).toMatch(/^\*{34}[0-9a-f]{2}$/);
    if (shape === 2) {
      expect(view.identityNumber).toBe(masked(identityNumber));
      expect(view.identityNumber).toMatch(/^\*{9}\d{2}$/);
    } else {
      expect(view.identityNumber).toBeNull();
    }
    expect(typeof view.upstream).toBe("object");
    expect(view.upstream).not.toBeNull();

    // A timeline of {at, state, detail}, from received to queued.
    expect(Array.isArray(view.timeline)).toBe(true);
    for (const entry of view.timeline) {
      expect(typeof entry.at).toBe("string");
      expect(Number.isNaN(Date.parse(entry.at))).toBe(false);
      expect(typeof entry.state).toBe("string");
      expect(typeof entry.detail).toBe("string");
    }
    const states = view.timeline.map((e: { state: string }) => e.state);
    expect(states[0]).toBe("received");
    expect(states.at(-1)).toBe("queued");

    // The raw personal data never appears in the read body.
    expect(read.text).not.toContain(customerId);
    expect(read.text).not.toContain(identityNumber);

    const del = await cancel(id);
    expect(del.status, del.text).toBe(200);
  });
});

describe("create request variants", () => {
  it("accepts the exact sample identityNumber and masks it as *********01", async () => {
    const customerId = crypto.randomUUID();
    const id = await createOk(sampleBody(customerId, 2, "12345678901"));
    const read = await getInteraction(id);
    expect(read.status).toBe(200);
    expect(read.body.result.identityNumber).toBe("*********01");
    expect(read.text).not.toContain("12345678901");
  });

  it("accepts a charset parameter on the JSON content type", async () => {
    await createOk(sampleBody(crypto.randomUUID(), 3), "/CreateInteraction", authHeaders({ "content-type": "application/json; charset=utf-8" }));
  });

  it("accepts a non-negative integer customerId and masks its decimal string", async () => {
    const n = 100_000_000 + Math.floor(Math.random() * 800_000_000);
    const id = await createOk({ customerId: n, attachedData: [{ TRX: "Diyalog" }] });
    const read = await getInteraction(id);
    expect(read.body.result.customerId).toBe(masked(String(n)));
    expect(read.text).not.toContain(String(n));
  });

  it("accepts absent and null attachedData as no attributes", async () => {
    const a = await createOk({ customerId: crypto.randomUUID() });
    const b = await createOk({ customerId: crypto.randomUUID(), attachedData: null });
    for (const id of [a, b]) {
      const read = await getInteraction(id);
      expect(read.body.result.attributes).toEqual({});
    }
  });

  it("merges array items in order (a later key wins), stringifies scalars, drops nulls, ignores unknown fields", async () => {
    const id = await createOk({
      customerId: crypto.randomUUID(),
      attachedData: [{ A: "1", B: "keep" }, { A: "2", N: 7, T: true, Z: null }],
      somethingDiyalogAddsLater: { nested: true },
    });
    const read = await getShowing(id, ["A", "B", "N", "T", "Z"]);
    expect(read.body.result.attributes).toEqual({ A: "2", B: "keep", N: "7", T: "true" });
  });
});

describe("one active interaction per customer", () => {
  it("a repeat create while active returns the same interactionId", async () => {
    const customerId = crypto.randomUUID();
    const first = await createOk(sampleBody(customerId, 1));
    const second = await createOk(sampleBody(customerId, 1));
    const third = await createOk(sampleBody(customerId, 3), "/v1/interactions");
    expect(second).toBe(first);
    expect(third).toBe(first);
    const read = await getInteraction(first);
    expect(read.body.result.state).toBe("queued");
  });

  it("a concurrent double create (Promise.all) returns the same interactionId", async () => {
    const customerId = crypto.randomUUID();
    const [a, b] = await Promise.all([postCreate(sampleBody(customerId, 2)), postCreate(sampleBody(customerId, 2), "/v1/interactions")]);
    expect(a.status, a.text).toBe(200);
    expect(b.status, b.text).toBe(200);
    const idA = track(a.body.result.interactionId);
    const idB = track(b.body.result.interactionId);
    expect(idA).toMatch(INTERACTION_ID);
    expect(idB).toBe(idA);
  });

  it("five concurrent creates for one customer all return one id", async () => {
    const customerId = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => postCreate(sampleBody(customerId, 1))));
    const ids = new Set(answers.map((a) => (expect(a.status, a.text).toBe(200), track(a.body.result.interactionId))));
    expect(ids.size).toBe(1);
  });

  it("after a cancel, a new create for the same customer gives a new id", async () => {
    const customerId = crypto.randomUUID();
    const first = await createOk(sampleBody(customerId, 1));
    const del = await cancel(first);
    expect(del.status, del.text).toBe(200);
    expect(del.body.result).toEqual({ interactionId: first, state: "cancelled" });

    const second = await createOk(sampleBody(customerId, 1));
    expect(second).not.toBe(first);
    expect((await getInteraction(first)).body.result.state).toBe("cancelled");
    expect((await getInteraction(second)).body.result.state).toBe("queued");
  });

  it("different customers get different ids", async () => {
    const a = await createOk(sampleBody(crypto.randomUUID(), 1));
    const b = await createOk(sampleBody(crypto.randomUUID(), 1));
    expect(a).not.toBe(b);
  });

  it("customers keep separate calls, concurrently and after a cancel", async () => {
    const customers = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    // Each customer double-taps, all at once: one interaction per customer.
    const answers = await Promise.all(customers.flatMap((c) => [postCreate(sampleBody(c, 1)), postCreate(sampleBody(c, 2))]));
    const ids = answers.map((a) => (expect(a.status, a.text).toBe(200), track(a.body.result.interactionId as string)));
    expect(new Set(ids).size).toBe(3);
    for (let i = 0; i < 3; i++) expect(ids[2 * i + 1]).toBe(ids[2 * i]);

    // Cancelling one customer's call frees only that customer.
    expect((await cancel(ids[0]!)).status).toBe(200);
    const again = await Promise.all(customers.map((c) => createOk(sampleBody(c, 3))));
    expect(again[0]).not.toBe(ids[0]);
    expect(again.slice(1)).toEqual([ids[2], ids[4]]);
  });
});
