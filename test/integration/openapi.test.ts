import { exports } from "cloudflare:workers";
import { Validator, type Schema } from "@cfworker/json-schema";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { createApp } from "../../src/app";
import { createShapeProblem, normaliseCreate, normaliseCustomerRequest } from "../../src/diyalog/create-request";
import { CreateInteractionBody, zodCreateProblem } from "../../src/diyalog/create-schema";
import { ERROR_CODES } from "../../src/http/envelope";
import { ClaimBody, EventBody } from "../../src/upstreams/callback-schemas";
import { callbackProblem } from "../../src/upstreams/routes";
import { buildOpenApiDocument, CustomerRequestBody, renderOpenApiDocument } from "../../scripts/lib/openapi";
import { authHeaders, BASE, call, cleanup, createOk, KEY, sampleBody, type Answer } from "./helpers";

/**
 * `GET /openapi.json` (design §1): the committed document is the one the build script makes from
 * the request bodies' zod schemas, it names every route and errorCode, a request body is valid by
 * the document exactly when the schema accepts it, the worker's own checks name the same first
 * problem as the schemas, and real answers match the documented ones.
 */

type Json = Record<string, any>;

const doc = buildOpenApiDocument() as Json;

afterAll(cleanup);

/** A validator for the schema at `pointer` inside the document, with its `$ref`s resolvable. */
function validatorAt(...path: string[]): Validator {
  let schema: any = doc;
  for (const key of path) {
    schema = schema?.[key];
    if (schema === undefined) throw new Error(`the document has nothing at ${path.join(" → ")}`);
  }
  // The document's own #/components pointers resolve against this root.
  const root = structuredClone({ allOf: [schema], components: doc.components }) as Schema;
  return new Validator(root, "2020-12", false);
}

const operations = (): [string, string, Json][] =>
  Object.entries(doc.paths as Json).flatMap(([path, item]) => Object.entries(item as Json).map(([method, op]) => [path, method, op as Json] as [string, string, Json]));

describe("the served document", () => {
  it("GET /openapi.json is the committed file, and that file is what the build script makes now", async () => {
    const res = await exports.default.fetch(`${BASE}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const served = await res.text();
    // Stale: run `npm run build:openapi` and commit public/openapi.json.
    expect(served, "public/openapi.json is stale: run `npm run build:openapi`").toBe(renderOpenApiDocument());
  });

  it("HEAD works, other methods answer 405 with Allow, without a key", async () => {
    const head = await exports.default.fetch(`${BASE}/openapi.json`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    // (DELETE on a single segment is a cancel of that id: test/integration/console.test.ts)
    for (const method of ["POST", "PUT", "PATCH"]) {
      const answer = await call("/openapi.json", { method });
      expect(answer.status, method).toBe(405);
      expect(answer.body.errorCode).toBe("method_not_allowed");
      expect(answer.res.headers.get("allow")).toBe("GET, HEAD");
    }
  });

  it("is an OpenAPI 3.1 document whose every $ref resolves", () => {
    expect(doc.openapi).toBe("3.1.0");
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const raw of refs) {
      const pointer = raw.slice(8, -1);
      expect(pointer.startsWith("#/")).toBe(true);
      let target: any = doc;
      for (const part of pointer.slice(2).split("/")) target = target?.[part.replaceAll("~1", "/").replaceAll("~0", "~")];
      expect(target, pointer).toBeDefined();
    }
  });
});

describe("coverage", () => {
  it("every route of the worker is in the document", () => {
    const documented = new Set(operations().map(([path, method]) => `${method.toUpperCase()} ${path}`));
    const routes = createApp()
      .routes.filter((r) => ["GET", "POST", "DELETE", "PUT", "PATCH"].includes(r.method) && !r.path.includes("*"))
      .map((r) => `${r.method} ${r.path.replace(/:id\b/, "{interactionId}")}`);
    expect(routes.length).toBeGreaterThanOrEqual(10);
    for (const route of new Set(routes)) expect(documented, route).toContain(route);
  });

  it("the ErrorCode schema is the envelope's closed list, and every errorCode is some documented answer's", () => {
    expect(doc.components.schemas.ErrorCode.enum).toEqual([...ERROR_CODES]);
    const answered = new Set<string>();
    for (const [, , op] of operations()) {
      for (const response of Object.values(op.responses as Json)) {
        const schema = (response as Json).content?.["application/json"]?.schema;
        for (const part of schema?.allOf ?? []) for (const code of part.properties?.errorCode?.enum ?? []) answered.add(code);
      }
    }
    expect([...answered].sort()).toEqual([...ERROR_CODES].sort());
  });

  it("every JSON answer of the API is the envelope (success or Failure)", () => {
    for (const [path, method, op] of operations()) {
      if (path === "/openapi.json" || path.startsWith("/console") || path.includes("twilio")) continue;
      for (const [status, response] of Object.entries(op.responses as Json)) {
        const schema = (response as Json).content?.["application/json"]?.schema;
        expect(schema, `${method} ${path} ${status}`).toBeDefined();
        const ok = status.startsWith("2");
        if (ok) expect(schema.properties.success, `${method} ${path} ${status}`).toEqual({ const: true });
        else expect(schema.allOf[0], `${method} ${path} ${status}`).toEqual({ $ref: "#/components/schemas/Failure" });
      }
    }
  });
});

describe("request schemas: valid by zod ⇔ valid by the document", () => {
  const createSchema = validatorAt("components", "schemas", "CreateInteractionRequest");

  const samples: unknown[] = [
    sampleBody("123456", 1),
    sampleBody("123456", 2),
    sampleBody("123456", 3),
    { customerId: 123456 },
    { customerId: -1 },
    { customerId: 1.5 },
    { customerId: "x", attachedData: null },
    { customerId: "x", attachedData: [] },
    { customerId: "x", attachedData: {} },
    { customerId: "x", attachedData: [{ a: 1, b: true, c: null }] },
    { customerId: "x", attachedData: { a: { nested: 1 } } },
    { customerId: "x", attachedData: [{ a: [1] }] },
    { customerId: "x", attachedData: ["not an object"] },
    { customerId: "x", attachedData: [null] },
    { customerId: "x", attachedData: "TRX=Diyalog" },
    { customerId: "x", attachedData: 5 },
    { customerId: "x", identityNumber: null },
    { customerId: "x", identityNumber: 12345678901 },
    { customerId: "x", identityNumber: "12345678901", unknownField: { anything: [1, 2] } },
    { customerId: null },
    { customerId: true },
    { customerId: ["123"] },
    { customerId: { id: "123" } },
    { attachedData: { TRX: "Diyalog" } },
    {},
    { customerId: "x", attachedData: JSON.parse('{"__proto__": "plain", "constructor": "data"}') },
  ];

  it.each(samples.map((s) => [JSON.stringify(s), s]))("%s", (_, sample) => {
    const byZod = z.safeParse(CreateInteractionBody, sample).success;
    const byDocument = createSchema.validate(sample).valid;
    expect(byDocument).toBe(byZod);
  });

  it("the samples include both verdicts", () => {
    const verdicts = new Set(samples.map((s) => z.safeParse(CreateInteractionBody, s).success));
    expect(verdicts).toEqual(new Set([true, false]));
  });

  it("agrees on random JSON bodies of the create's shape", () => {
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
    const attrs = fc.dictionary(fc.string(), fc.oneof(scalar, fc.jsonValue({ maxDepth: 2 })), { maxKeys: 4 });
    const body = fc.record(
      {
        customerId: fc.oneof(fc.string(), fc.integer(), fc.jsonValue({ maxDepth: 1 })),
        attachedData: fc.oneof(attrs, fc.array(fc.oneof(attrs, scalar), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
        identityNumber: fc.oneof(fc.string(), fc.constant(null), fc.jsonValue({ maxDepth: 1 })),
        extra: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    );
    let accepted = 0;
    fc.assert(
      fc.property(body, (sample) => {
        const byZod = z.safeParse(CreateInteractionBody, sample).success;
        if (byZod) accepted += 1;
        return createSchema.validate(sample).valid === byZod;
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it("the worker's shape check names the problem zod names (field and message), on the samples and 3,000 random bodies", () => {
    const agree = (sample: Record<string, unknown>) => expect(createShapeProblem(sample), JSON.stringify(sample)).toEqual(zodCreateProblem(sample));
    for (const sample of samples) agree(sample as Record<string, unknown>);
    agree({ customerId: "x", attachedData: [null, { a: { nested: 1 } }] });
    agree({ customerId: "x", attachedData: JSON.parse('[{"ok": 1}, 7, {"b": 1, "__proto__": {"n": 1}, "c": [2], "0": {}}]') });
    agree({ customerId: Infinity, attachedData: 5 });
    agree({ customerId: "x", attachedData: { a: Infinity }, identityNumber: 5 });
    const scalar = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
    const key = fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom("__proto__", "0", "12", "constructor"));
    const map = fc.dictionary(key, fc.oneof({ weight: 4, arbitrary: scalar }, fc.jsonValue({ maxDepth: 1 }), fc.constant(Infinity)), { maxKeys: 4 });
    const value = fc.oneof(scalar, fc.jsonValue({ maxDepth: 1 }), fc.constant(Infinity));
    const body = fc.record(
      {
        customerId: fc.oneof({ weight: 3, arbitrary: fc.oneof(fc.string({ maxLength: 3 }), fc.integer()) }, value),
        attachedData: fc.oneof(map, fc.array(fc.oneof({ weight: 3, arbitrary: map }, value), { maxLength: 4 }), value),
        identityNumber: fc.oneof({ weight: 3, arbitrary: fc.oneof(fc.string({ maxLength: 3 }), fc.constant(null)) }, value),
        extra: value,
      },
      { requiredKeys: [] },
    );
    let accepted = 0;
    fc.assert(
      fc.property(body, (sample) => {
        // As the worker gets it: parsed JSON, where "__proto__" is an own key (Infinity, which JSON.parse makes of 1e999, aside).
        const parsed = JSON.parse(JSON.stringify(sample, (_k, v) => (v === Infinity ? "__inf__" : v)), (_k, v) => (v === "__inf__" ? Infinity : v));
        if (zodCreateProblem(parsed) === undefined) accepted += 1;
        agree(parsed);
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it("whatever the worker accepts, the document accepts (it adds limits of its own, described in text)", () => {
    for (const sample of samples) {
      let normalised = true;
      try {
        normaliseCreate(sample);
      } catch {
        normalised = false;
      }
      if (normalised) expect(createSchema.validate(sample).valid, JSON.stringify(sample)).toBe(true);
    }
  });

  it("CustomerRequest (lookup, erase): valid by zod ⇔ valid by the document, and whatever the worker accepts the document accepts", () => {
    const validator = validatorAt("components", "schemas", "CustomerRequest");
    const cases: unknown[] = [
      { customerId: "123456" },
      { customerId: 123456 },
      { customerId: "  123456  " },
      { customerId: "123456", other: [1] },
      { customerId: "" },
      { customerId: -1 },
      { customerId: 1.5 },
      { customerId: null },
      { customerId: true },
      { customerId: ["123456"] },
      { identityNumber: "12345678901" },
      {},
    ];
    const verdicts = new Set<boolean>();
    for (const sample of cases) {
      const byZod = z.safeParse(CustomerRequestBody, sample).success;
      verdicts.add(byZod);
      expect(validator.validate(sample).valid, JSON.stringify(sample)).toBe(byZod);
      let normalised = true;
      try {
        normaliseCustomerRequest(sample);
      } catch {
        normalised = false;
      }
      if (normalised) expect(validator.validate(sample).valid, JSON.stringify(sample)).toBe(true);
    }
    expect(verdicts).toEqual(new Set([true, false]));
  });

  const upstreamCases: [string, z.core.$ZodType, unknown[], "claim" | "event"][] = [
    [
      "ClaimRequest",
      ClaimBody,
      [
        { type: "claim", interactionId: "i-1" },
        { type: "claim", interactionId: "i-1", agentId: "agent-1" },
        { type: "claim", interactionId: "i-1", agentId: "" },
        { type: "claim", interactionId: "i-1", agentId: "x".repeat(129) },
        { type: "claim", interactionId: "i-1", agentId: 7 },
        { type: "abandoned", interactionId: "i-1" },
        { agentId: "agent-1" },
        { type: "claim" },
        { type: "claim", interactionId: "" },
        {},
      ],
      "claim",
    ],
    [
      "EventRequest",
      EventBody,
      [
        { type: "abandoned", interactionId: "i-1" },
        { type: "completed", interactionId: "i-1", reason: "done" },
        { type: "other", interactionId: "i-1" },
        { type: "claim", interactionId: "i-1" },
        { type: "abandoned" },
        {},
        { type: "failed", interactionId: "i-1", reason: "r".repeat(501) },
        { type: "failed", interactionId: "i-1", reason: 1 },
      ],
      "event",
    ],
  ];
  /** What the worker answers for a callback body (src/upstreams/routes.ts) must be what the schema says: the same verdict, the same field named. */
  function expectWorkerAgrees(kind: "claim" | "event", schema: z.core.$ZodType, sample: unknown): void {
    const byZod = z.safeParse(schema, sample);
    const field = byZod.success ? undefined : String(byZod.error.issues[0]!.path[0] ?? "body");
    expect(callbackProblem(kind, sample), JSON.stringify(sample)).toBe(field);
    if (!byZod.success) expect(byZod.error.issues[0]!.message).toBe("Invalid input");
  }
  for (const [name, schema, cases, kind] of upstreamCases) {
    it(`${name}`, () => {
      const validator = validatorAt("components", "schemas", name);
      for (const sample of cases) {
        expect(validator.validate(sample).valid, JSON.stringify(sample)).toBe(z.safeParse(schema, sample).success);
        expectWorkerAgrees(kind, schema, sample);
      }
    });

    it(`${name}: the worker's check agrees with the schema on random bodies (verdict and the field named)`, () => {
      const text = fc.oneof(fc.string({ maxLength: 3 }), fc.string({ minLength: 120, maxLength: 140 }), fc.string({ minLength: 495, maxLength: 505 }));
      const value = fc.oneof(text, fc.constantFrom("claim", "abandoned", "completed", "failed", "other", ""), fc.jsonValue({ maxDepth: 1 }), fc.constant(undefined));
      const body = fc.oneof(
        { weight: 8, arbitrary: fc.record({ type: value, interactionId: value, agentId: value, reason: value, extra: value }, { requiredKeys: [] }) },
        fc.jsonValue({ maxDepth: 2 }),
      );
      let accepted = 0;
      fc.assert(
        fc.property(body, (sample) => {
          if (z.safeParse(schema, sample).success) accepted += 1;
          expectWorkerAgrees(kind, schema, sample);
        }),
        { numRuns: 2000 },
      );
      expect(accepted).toBeGreaterThan(0);
    });
  }
});

describe("real answers match the documented ones", () => {
  function expectDocumented(path: string, method: string, answer: Answer): void {
    const status = String(answer.status);
    const validator = validatorAt("paths", path, method, "responses", status, "content", "application/json", "schema");
    const verdict = validator.validate(answer.body);
    expect(verdict.valid, `${method.toUpperCase()} ${path} ${status}: ${answer.text} ${JSON.stringify(verdict.errors.slice(0, 3))}`).toBe(true);
  }

  it("create, read, cancel and their failures", async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const created = await call("/v1/interactions", { method: "POST", headers: authHeaders(), body: JSON.stringify(sampleBody(crypto.randomUUID(), 2)) });
    expectDocumented("/v1/interactions", "post", created);
    const id = created.body.result.interactionId as string;
    expectDocumented("/v1/interactions/{interactionId}", "get", await call(`/v1/interactions/${id}`, { headers: auth }));
    expectDocumented("/{interactionId}", "delete", await call(`/${id}`, { method: "DELETE", headers: auth }));
    expectDocumented("/v1/interactions/{interactionId}", "get", await call(`/v1/interactions/${id}`, { headers: auth }));

    expectDocumented("/CreateInteraction", "post", await call("/CreateInteraction", { method: "POST", headers: authHeaders(), body: "{" }));
    expectDocumented("/CreateInteraction", "post", await call("/CreateInteraction", { method: "POST", headers: authHeaders(), body: "{}" }));
    expectDocumented("/CreateInteraction", "post", await call("/CreateInteraction", { method: "POST", headers: { ...authHeaders(), "content-type": "text/plain" }, body: "{}" }));
    expectDocumented("/CreateInteraction", "post", await call("/CreateInteraction", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }));
    expectDocumented("/CreateInteraction", "post", await call("/CreateInteraction", { method: "GET" }));
    expectDocumented("/v1/interactions/{interactionId}", "delete", await call(`/v1/interactions/${crypto.randomUUID()}`, { method: "DELETE", headers: auth }));
  });

  it("an assigned call's cancel (409) and its read", async () => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 3));
    const auth = { authorization: `Bearer ${KEY}` };
    // The test simulator's one agent claims after 600 ms.
    let state = "";
    for (let i = 0; i < 100 && state !== "assigned"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await call(`/v1/interactions/${id}`, { headers: auth })).body.result.state;
    }
    expect(state).toBe("assigned");
    expectDocumented("/v1/interactions/{interactionId}", "get", await call(`/v1/interactions/${id}`, { headers: auth }));
    expectDocumented("/{interactionId}", "delete", await call(`/${id}`, { method: "DELETE", headers: auth }));
  });

  it("lookup and erasure of a customer with a waiting call, a lookup after it, and their failures", async () => {
    const customerId = `openapi-${crypto.randomUUID()}`;
    const id = await createOk({ customerId, attachedData: [{ TRX: "Diyalog" }, { Segment: "VIP" }], identityNumber: "12345678901" });
    const post = (path: string, body: string, headers: Record<string, string> = authHeaders()) => call(path, { method: "POST", headers, body });
    const lookup = await post("/v1/customers/lookup", JSON.stringify({ customerId }));
    expect(lookup.body.result.interactions.map((ix: Json) => ix.interactionId)).toEqual([id]);
    expectDocumented("/v1/customers/lookup", "post", lookup);
    const erased = await post("/v1/customers/erase", JSON.stringify({ customerId }));
    expect(erased.body.result.cancelled).toEqual([id]);
    expectDocumented("/v1/customers/erase", "post", erased);
    const after = await post("/v1/customers/lookup", JSON.stringify({ customerId }));
    expect(after.body.result.interactions[0].customerId).toBeNull();
    expectDocumented("/v1/customers/lookup", "post", after);

    for (const path of ["/v1/customers/lookup", "/v1/customers/erase"]) {
      expectDocumented(path, "post", await post(path, "{"));
      expectDocumented(path, "post", await post(path, "[]"));
      expectDocumented(path, "post", await post(path, JSON.stringify({ customerId: -1 })));
      expectDocumented(path, "post", await post(path, "{}", { ...authHeaders(), "content-type": "text/plain" }));
      expectDocumented(path, "post", await post(path, JSON.stringify({ customerId: "x".repeat(40_000) })));
      expectDocumented(path, "post", await post(path, "{}", { "content-type": "application/json" }));
      expectDocumented(path, "post", await call(path, { method: "GET", headers: { authorization: `Bearer ${KEY}` } }));
    }
  });

  it("healthz and the simulator's view", async () => {
    expectDocumented("/healthz", "get", await call("/healthz"));
    expectDocumented("/v1/simulator", "get", await call("/v1/simulator", { headers: { authorization: `Bearer ${KEY}` } }));
    expectDocumented("/v1/simulator", "get", await call("/v1/simulator"));
  });
});
