import * as z from "zod/mini";
import { LIMITS } from "../../src/diyalog/create-request";
import { CreateInteractionBody } from "../../src/diyalog/create-schema";
import { MAX_BODY_BYTES } from "../../src/http/body";
import { ERROR_CODES, type ErrorCode } from "../../src/http/envelope";
import { TRANSITIONS } from "../../src/interactions/machine";
import { ClaimBody, EventBody } from "../../src/upstreams/callback-schemas";
import { SESSION_PERMISSIONS } from "../../src/diyalog/routes";

/**
 * The OpenAPI 3.1 document of the worker (`GET /openapi.json`), built from the zod schemas the
 * worker validates with and the envelope's closed errorCode list. Runs at build time only
 * (`npm run build:openapi` writes public/openapi.json); the worker serves the committed file as a
 * static asset, and test/integration/openapi.test.ts fails when that file is stale.
 */

type Json = Record<string, unknown>;

/** A request schema as JSON Schema (2020-12, the dialect of OpenAPI 3.1), without the `$schema` key. */
function jsonSchema(schema: z.core.$ZodType, io: "input" | "output" = "input"): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io }) as Json;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const STATES = Object.keys(TRANSITIONS);

/** What each errorCode means, in one line (design §1). */
const ERROR_MEANINGS: Record<ErrorCode, string> = {
  not_found: "404: unknown path, or an unknown, malformed or purged interactionId",
  method_not_allowed: "405: a fixed route reached with another method (see the `Allow` header)",
  payload_too_large: `413: the body is larger than the route accepts (${MAX_BODY_BYTES} bytes for a create)`,
  unsupported_media_type: "415: Content-Type is not application/json",
  invalid_json: "400: the body is not JSON (or not UTF-8)",
  validation_failed: "400: a field breaks the rules; errorMessage starts with the field, result.field names it",
  unauthorized: "401: missing or wrong API key (or webhook signature on upstream routes)",
  auth_not_configured: "503: no DIYALOG_API_KEYS and ALLOW_UNAUTHENTICATED is not true (fail closed)",
  config_invalid: "503: the worker's configuration is invalid; errorMessage names the variable",
  rate_limited: "429: too many requests for this API key, or too many failed authentications from this address (see `Retry-After`)",
  already_assigned: "409: an agent already has the interaction, it can no longer be cancelled",
  cancelled: "409 (claim hook): the interaction may not be given to an agent; result.reason is its state. 409 (create): the interaction was cancelled (a DELETE or an erasure) before the call center's queue accepted it",
  upstream_rejected: "502: the call center's queue refused the interaction for good; it is closed as failed",
  upstream_unavailable: "503: the call center's queue did not accept the interaction within CREATE_DEADLINE_MS; it is closed as failed",
  cancel_unconfirmed: "503: the cancel is recorded but an upstream that cannot veto has not confirmed it yet; repeat the DELETE to learn the outcome",
  internal_error: "500: an unexpected error (no details are returned)",
};

const ErrorCodeSchema = z.enum(ERROR_CODES);

/** The envelope of a success: `result` is the route's own object. */
function successOf(result: Json): Json {
  return {
    type: "object",
    properties: { success: { const: true }, errorMessage: { type: "null" }, result },
    required: ["success", "errorMessage", "result"],
  };
}

/** The envelope of a failure with one of `codes`, and optionally a known `result` shape. */
function failureOf(codes: readonly ErrorCode[], result?: Json): Json {
  const narrowed: Json = { errorCode: { enum: [...codes] } };
  if (result) narrowed.result = result;
  return { allOf: [ref("Failure"), { properties: narrowed }] };
}

const JSON_TYPE = "application/json";

function envelopeResponse(description: string, schema: Json, headers?: Json): Json {
  return { description, content: { [JSON_TYPE]: { schema } }, ...(headers ? { headers } : {}) };
}

function failureResponse(codes: readonly ErrorCode[], result?: Json, headers?: Json): Json {
  return envelopeResponse(codes.map((c) => ERROR_MEANINGS[c]).join("; "), failureOf(codes, result), headers);
}

const RETRY_AFTER = { "Retry-After": { $ref: "#/components/headers/Retry-After" } };
const ALLOW = { Allow: { $ref: "#/components/headers/Allow" } };

/** Answers every route can give, whatever it does. */
const COMMON = {
  "500": failureResponse(["internal_error"]),
};

/** Answers of every route that needs an API key, in the order the checks run. */
const KEYED = {
  "401": failureResponse(["unauthorized"]),
  "429": failureResponse(["rate_limited"], undefined, RETRY_AFTER),
  ...COMMON,
};

const KEYED_503: ErrorCode[] = ["auth_not_configured", "config_invalid"];

/** Answers of a fixed route reached with another method. */
const WRONG_METHOD = { "405": failureResponse(["method_not_allowed"], undefined, ALLOW) };

const FIELD_RESULT = { type: "object", properties: { field: { type: "string" } }, required: ["field"] };
const INTERACTION_RESULT = {
  type: "object",
  properties: { interactionId: ref("InteractionId") },
  required: ["interactionId"],
};
const STATE_RESULT = {
  type: "object",
  properties: { interactionId: ref("InteractionId"), state: ref("State") },
  required: ["interactionId", "state"],
};

const createOperation = (operationId: string, summary: string): Json => ({
  operationId,
  summary,
  tags: ["Diyalog"],
  security: [{ bearer: [] }, { apiKey: [] }],
  parameters: [{ $ref: "#/components/parameters/RequestId" }],
  requestBody: { required: true, content: { [JSON_TYPE]: { schema: ref("CreateInteractionRequest") } } },
  responses: {
    "200": envelopeResponse("The call center's queue accepted the interaction (or the customer's active one is returned).", successOf(INTERACTION_RESULT)),
    "400": failureResponse(["invalid_json", "validation_failed"], { anyOf: [FIELD_RESULT, { type: "null" }] }),
    "413": failureResponse(["payload_too_large"]),
    "415": failureResponse(["unsupported_media_type"]),
    ...KEYED,
    "409": failureResponse(["cancelled"], INTERACTION_RESULT),
    "502": failureResponse(["upstream_rejected"], INTERACTION_RESULT),
    "503": failureResponse([...KEYED_503, "upstream_unavailable"]),
    ...WRONG_METHOD,
  },
});

const cancelOperation = (operationId: string, summary: string): Json => ({
  operationId,
  summary,
  tags: ["Diyalog"],
  security: [{ bearer: [] }, { apiKey: [] }],
  parameters: [{ $ref: "#/components/parameters/InteractionId" }, { $ref: "#/components/parameters/RequestId" }],
  responses: {
    "200": envelopeResponse(
      "Cancelled (or already cancelled, or failed/expired with nothing left upstream): it will never reach an agent.",
      successOf(STATE_RESULT),
    ),
    "202": envelopeResponse(
      "The cancel is recorded and the veto holds (the upstream can veto); the proxy keeps cancelling upstream.",
      successOf({ ...STATE_RESULT, properties: { ...STATE_RESULT.properties, state: { const: "cancelling" } } }),
    ),
    "404": failureResponse(["not_found"]),
    "409": failureResponse(["already_assigned"], STATE_RESULT),
    ...KEYED,
    "503": failureResponse([...KEYED_503, "cancel_unconfirmed"]),
  },
});

/** Why the customer routes take the customerId in a body (design §6). */
const CUSTOMER_IN_BODY =
  "The customerId travels in the JSON body, never in the URL (URLs end up in access logs); the request's log line carries only " +
  "`customerRef`, the first 16 characters of the base64url HMAC-SHA256 of the customerId under CUSTOMER_REF_KEY, which every log " +
  "line and metric about the customer's interactions carries too.";

const customerOperation = (operationId: string, summary: string, description: string, ok: Json): Json => ({
  operationId,
  summary,
  description: `${description} ${CUSTOMER_IN_BODY}`,
  tags: ["Diyalog"],
  security: [{ bearer: [] }, { apiKey: [] }],
  parameters: [{ $ref: "#/components/parameters/RequestId" }],
  requestBody: { required: true, content: { [JSON_TYPE]: { schema: ref("CustomerRequest") } } },
  responses: {
    "200": ok,
    "400": failureResponse(["invalid_json", "validation_failed"], { anyOf: [FIELD_RESULT, { type: "null" }] }),
    "413": failureResponse(["payload_too_large"]),
    "415": failureResponse(["unsupported_media_type"]),
    ...KEYED,
    "503": failureResponse(KEYED_503),
    ...WRONG_METHOD,
  },
});

/** The body of a lookup or an erasure: the create's customerId, with its rules. */
function describeCustomerRequest(schema: Json): Json {
  const properties = schema.properties as Record<string, Json>;
  properties.customerId = {
    description: `The customer, normalised as a create's customerId: a string, or a non-negative safe integer turned into its decimal string; trimmed, 1-${LIMITS.customerIdLength} characters, well-formed Unicode, no control characters. Anything else (or a body that is not an object) is 400 \`validation_failed\` naming \`customerId\` (or \`body\`).`,
    ...properties.customerId,
  };
  return { ...schema, description: `Names one customer. Unknown fields are ignored. Body at most ${MAX_BODY_BYTES} bytes.`, examples: [{ customerId: "123456" }, { customerId: 123456 }] };
}

/** Why the upstream callbacks name their action and interaction (design §2). */
const CALLBACK_BINDING =
  "Standard Webhooks signs `id.timestamp.body`, not the URL, so the body names the action (`type`) and the interaction " +
  "(`interactionId`), and the proxy acts only when both match the route. A missing or different `interactionId`, or a `type` " +
  "that is not the route's, is 400 `validation_failed` (result.field names the field) and changes nothing: no signed message, " +
  "in either direction, can act on another interaction or as another action. The signature is checked first (401); bad " +
  "signatures count against the failed-authentication limit of the client address (429 past it).";

const BINDING_400 = envelopeResponse(
  `${ERROR_MEANINGS.invalid_json}; ${ERROR_MEANINGS.validation_failed} (also when \`type\` is not the route's or \`interactionId\` is not the path's)`,
  failureOf(["invalid_json", "validation_failed"]),
);

/** The one rule a JSON Schema cannot say: `interactionId` must equal the path's. */
function describeCallback(schema: Json): Json {
  const properties = schema.properties as Record<string, Json>;
  properties.interactionId = { ...properties.interactionId, description: "Must be the `interactionId` of the path; anything else is 400 `validation_failed`." };
  return schema;
}

/** Static descriptions the zod schema cannot carry: the limits `normaliseCreate` applies after it. */
function describeCreateRequest(schema: Json): Json {
  const properties = schema.properties as Record<string, Json>;
  const describe = (name: string, description: string) => {
    properties[name] = { description, ...properties[name] };
  };
  describe(
    "customerId",
    `The customer (personal data: never logged, masked in reads). A string, or a non-negative safe integer turned into its decimal string; trimmed, 1-${LIMITS.customerIdLength} characters, well-formed Unicode (no lone surrogates), no control characters (U+0000-U+001F, U+007F-U+009F).`,
  );
  describe(
    "attachedData",
    `Attributes for the agent: an array of objects merged in order (a later key wins) or one flat object; absent or null = {}. Numbers and booleans become strings, null values are dropped. After the merge at most ${LIMITS.attributes} keys, keys 1-${LIMITS.keyLength} characters, values at most ${LIMITS.valueLength} characters, well-formed Unicode (no lone surrogates), no control characters (U+0000-U+001F, U+007F-U+009F) except tab.`,
  );
  describe(
    "identityNumber",
    `National id (personal data): forwarded upstream, never logged, masked in reads. At most ${LIMITS.identityNumberLength} characters, well-formed Unicode, no control characters; null = absent.`,
  );
  return {
    ...schema,
    description: `Diyalog's create request; all three shapes Diyalog has sent are accepted, unknown top-level fields are ignored. Body at most ${MAX_BODY_BYTES} bytes.`,
    examples: [
      { customerId: "123456", attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: "123456" }, { SecondaryProjectManagerId: "654321" }] },
      { customerId: "123456", attachedData: [{ TRX: "Diyalog" }], identityNumber: "12345678901" },
      { customerId: "123456", attachedData: { TRX: "Diyalog", PrimaryProjectManagerId: "123456" } },
    ],
  };
}

const InteractionView = z.object({
  interactionId: z.string(),
  state: z.enum(STATES as [string, ...string[]]),
  upstream: z.object({
    adapter: z.string(),
    id: z.optional(z.string()),
    status: z.optional(z.number()),
    agentId: z.optional(z.string()),
    cleanup: z.optional(z.enum(["pending", "done", "too_late"])),
  }),
  attributes: z.record(z.string(), z.string()),
  customerId: z.nullable(z.string()).check(z.describe("Masked (only the last 2 characters shown); null once the customer's personal data was erased.")),
  identityNumber: z.nullable(z.string()).check(z.describe("The masked form (`*********01`); null when none was sent, or once erased.")),
  createdAt: z.string(),
  timeline: z.array(
    z.object({
      at: z.string(),
      state: z.enum(STATES as [string, ...string[]]),
      detail: z.string(),
      text: z.optional(z.string().check(z.describe("Free text an upstream sent with the event (personal data: stored encrypted, never logged, gone after an erasure)."))),
    }),
  ),
});

/** The body of a lookup or an erasure, as the document describes it: the create's customerId (normaliseCustomerRequest applies the same rules). */
export const CustomerRequestBody = z.pick(CreateInteractionBody, { customerId: true });

/** `POST /v1/customers/lookup`: every interaction of the customer still within retention, newest first. */
const CUSTOMER_LOOKUP: Json = {
  type: "object",
  properties: {
    customerRef: { type: "string", description: "The customer's reference in logs and metrics (16 base64url characters)." },
    interactions: { type: "array", items: ref("Interaction") },
  },
  required: ["customerRef", "interactions"],
  additionalProperties: false,
};

/** `POST /v1/customers/erase`: how many interactions lost their personal data, and what became of a waiting call. */
const CUSTOMER_ERASURE: Json = {
  type: "object",
  properties: {
    customerRef: { type: "string", description: "The customer's reference in logs and metrics (16 base64url characters)." },
    erased: { type: "integer", minimum: 0, description: "How many of the customer's interactions had their personal fields deleted." },
    cancelled: { type: "array", items: ref("InteractionId"), description: "The waiting call the erasure cancelled (confirmed by the upstream, or vetoed)." },
    cancelUnconfirmed: {
      type: "array",
      items: ref("InteractionId"),
      description: "A waiting call whose cancel an upstream that cannot veto has not confirmed yet; the proxy keeps cancelling it.",
    },
  },
  required: ["customerRef", "erased", "cancelled", "cancelUnconfirmed"],
  additionalProperties: false,
};

const SimulatorSnapshot = z.object({
  agents: z.array(z.object({ id: z.string(), busy: z.boolean(), busyForMs: z.number(), interactionId: z.optional(z.string()) })),
  queue: z.array(z.object({ interactionId: z.string(), waitingMs: z.number() })),
});

/** `GET /v1/session`: the key's view of the proxy (the console signs in with it). */
const Session = z.object({
  upstream: z.string(),
  auth: z.enum(["api_key", "unauthenticated"]),
  permissions: z.array(z.enum(SESSION_PERMISSIONS)),
});

/** The version of package.json and the build's commit (BUILD_COMMIT, set by `npm run deploy`, else "unknown"). */
const Build = { version: z.string(), commit: z.string() };

const Health = z.object({
  status: z.literal("ok"),
  upstream: z.string(),
  auth: z.enum(["api_keys", "unauthenticated"]),
  /** Records are always stored encrypted: "encrypted" under PERSONAL_DATA_KEYS and CUSTOMER_REF_KEY (set together), "development-keys" under the built-in, public development keys when they are unset. */
  personalData: z.enum(["encrypted", "development-keys"]),
  /** DATA_JURISDICTION: where personal-data Durable Objects are created; null = no jurisdiction. */
  jurisdiction: z.nullable(z.enum(["eu", "fedramp"])),
  ...Build,
});

/** The whole document. Deterministic: the same sources always give the same JSON. */
export function buildOpenApiDocument(): Json {
  // The customer object's id and 128 random bits (src/interactions/stubs.ts).
  const interactionIdPattern = "^[0-9a-f]{64}[A-Za-z0-9_-]{22}$";
  const upstreamSecurity = [{ webhookSignature: [] }];
  return {
    openapi: "3.1.0",
    info: {
      title: "Diyalog queue proxy",
      version: "1.0.0",
      description:
        "Edge proxy between Diyalog's video-call servers and a call center's queue. Every API answer is the envelope " +
        '`{"success": boolean, "errorMessage": string|null, "result": object|null}` with a stable `errorCode` on failures; ' +
        "the HTTP status agrees with `success` (2xx ⇔ true). Every answer carries `x-request-id` (the caller's when it sent " +
        "a plain one of at most 128 characters), which is also forwarded to the upstream. When `DIYALOG_BASE_PATH` is set, " +
        "the Diyalog routes (tag Diyalog) live under that prefix.",
    },
    servers: [{ url: "http://127.0.0.1:8787", description: "npm start (simulator, key dev-key-local-only-0123456789abcdef)" }],
    tags: [
      { name: "Diyalog", description: "Called by Diyalog; need an API key (`Authorization: Bearer <key>` or `X-API-Key`)." },
      { name: "Operations", description: "Health, this document, the console and the simulator's view." },
      { name: "Upstream", description: "Called by the call center's queue; signed, not keyed." },
    ],
    paths: {
      "/CreateInteraction": { post: createOperation("createInteraction", "Create an interaction (Diyalog's exact path)") },
      "/{interactionId}": { delete: cancelOperation("cancelInteraction", "Cancel an interaction (Diyalog's exact path)") },
      "/v1/interactions": { post: createOperation("createInteractionV1", "Create an interaction") },
      "/v1/interactions/{interactionId}": {
        get: {
          operationId: "getInteraction",
          summary: "Read an interaction: state, upstream, attributes and timeline; customerId and identityNumber masked, attribute values only for VISIBLE_ATTRIBUTES (\"***\" for the rest)",
          tags: ["Diyalog"],
          security: [{ bearer: [] }, { apiKey: [] }],
          parameters: [{ $ref: "#/components/parameters/InteractionId" }, { $ref: "#/components/parameters/RequestId" }],
          responses: {
            "200": envelopeResponse("The interaction.", successOf(ref("Interaction"))),
            "404": failureResponse(["not_found"]),
            ...KEYED,
            "503": failureResponse(KEYED_503),
          },
        },
        delete: cancelOperation("cancelInteractionV1", "Cancel an interaction"),
      },
      "/v1/customers/lookup": {
        post: customerOperation(
          "lookupCustomer",
          "Find a customer's interactions: every one still within RETENTION_SECONDS, newest first, as GET /v1/interactions/{interactionId} shows them",
          "Answers where a customer's call is without the customerId ever reaching a log. Personal data is masked as in the read; after an erasure customerId and identityNumber read null, attributes {} and timeline entries carry no `text`. A customer with no interaction gets an empty list.",
          envelopeResponse("The customer's reference and interactions.", successOf(ref("CustomerLookup"))),
        ),
      },
      "/v1/customers/erase": {
        post: customerOperation(
          "eraseCustomer",
          "Erase a customer's personal data (KVKK Art. 7, GDPR Art. 17): cancels a waiting call and deletes every personal field the proxy holds for the customer",
          "A call still waiting is cancelled with the usual cancel semantics (the guarantee holds): its id is in `cancelled` once the cancel is confirmed or vetoed, in `cancelUnconfirmed` when an upstream that cannot veto has not confirmed it yet (the proxy keeps cancelling; an assigned call cannot be cancelled and is erased only). `erased` counts the interactions whose personal fields are deleted (a field still needed to reach the upstream goes as soon as the create cannot be sent again). What the upstream holds is the call center's own record. Repeating the erasure is harmless.",
          envelopeResponse("Erased; a lookup afterwards shows no personal data.", successOf(ref("CustomerErasure"))),
        ),
      },
      "/v1/session": {
        get: {
          operationId: "getSession",
          summary:
            "Checks the key: which upstream the proxy feeds and what the key may do (create, cancel, read, lookup, erase; simulator when UPSTREAM=simulator)",
          tags: ["Diyalog"],
          security: [{ bearer: [] }, { apiKey: [] }],
          responses: {
            "200": envelopeResponse("The key is accepted.", successOf(ref("Session"))),
            ...KEYED,
            "503": failureResponse(KEYED_503),
            ...WRONG_METHOD,
          },
        },
      },
      "/v1/simulator": {
        get: {
          operationId: "getSimulator",
          summary: "The embedded simulator's agents and queue (only when UPSTREAM=simulator)",
          tags: ["Operations"],
          security: [{ bearer: [] }, { apiKey: [] }],
          responses: {
            "200": envelopeResponse("Agents and waiting calls.", successOf(ref("SimulatorSnapshot"))),
            "404": failureResponse(["not_found"]),
            ...KEYED,
            "503": failureResponse(KEYED_503),
            ...WRONG_METHOD,
          },
        },
      },
      "/healthz": {
        get: {
          operationId: "health",
          summary: "Liveness and configuration check (no key, no secrets)",
          tags: ["Operations"],
          responses: {
            "200": envelopeResponse("Configuration valid and the Diyalog routes can serve.", successOf(ref("Health"))),
            "503": failureResponse(["config_invalid", "auth_not_configured"], {
              type: "object",
              properties: {
                status: { enum: ["config_invalid", "auth_not_configured"] },
                problems: { type: "array", items: { type: "string" } },
                version: { type: "string" },
                commit: { type: "string" },
              },
              required: ["status", "version", "commit"],
            }),
            ...COMMON,
            ...WRONG_METHOD,
          },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openApiDocument",
          summary: "This document (raw, not in the envelope)",
          tags: ["Operations"],
          responses: {
            "200": { description: "The OpenAPI 3.1 document.", content: { [JSON_TYPE]: { schema: { type: "object" } } } },
            ...WRONG_METHOD,
          },
        },
      },
      "/console": {
        get: {
          operationId: "console",
          summary: "The operator console (HTML; its API calls use the key entered on the page)",
          tags: ["Operations"],
          responses: {
            "200": { description: "The console page.", content: { "text/html": { schema: { type: "string" } } } },
            ...WRONG_METHOD,
          },
        },
      },
      "/console.js": {
        get: {
          operationId: "consoleScript",
          summary: "The console's script",
          tags: ["Operations"],
          responses: {
            "200": { description: "JavaScript.", content: { "text/javascript": { schema: { type: "string" } } } },
            ...WRONG_METHOD,
          },
        },
      },
      "/console.css": {
        get: {
          operationId: "consoleStyle",
          summary: "The console's style sheet",
          tags: ["Operations"],
          responses: {
            "200": { description: "CSS.", content: { "text/css": { schema: { type: "string" } } } },
            ...WRONG_METHOD,
          },
        },
      },
      "/console.svg": {
        get: {
          operationId: "consoleIcon",
          summary: "The console's icon",
          tags: ["Operations"],
          responses: {
            "200": { description: "SVG.", content: { "image/svg+xml": { schema: { type: "string" } } } },
            ...WRONG_METHOD,
          },
        },
      },
      "/v1/upstream/interactions/{interactionId}/claim": {
        post: {
          operationId: "claimInteraction",
          summary: "Claim hook of the http upstream: asked right before an agent gets the call (the veto)",
          tags: ["Upstream"],
          security: upstreamSecurity,
          parameters: [{ $ref: "#/components/parameters/InteractionId" }],
          description: CALLBACK_BINDING,
          requestBody: { required: true, content: { [JSON_TYPE]: { schema: ref("ClaimRequest") } } },
          responses: {
            "200": envelopeResponse("The agent may take the call (state → assigned).", successOf({ type: "object", properties: { proceed: { const: true } }, required: ["proceed"] })),
            "400": BINDING_400,
            "401": failureResponse(["unauthorized"]),
            "429": failureResponse(["rate_limited"], undefined, RETRY_AFTER),
            "404": failureResponse(["not_found"]),
            "409": failureResponse(["cancelled"], {
              type: "object",
              properties: { proceed: { const: false }, reason: ref("State") },
              required: ["proceed", "reason"],
            }),
            "413": failureResponse(["payload_too_large"]),
            "415": failureResponse(["unsupported_media_type"]),
            "503": failureResponse(["config_invalid"]),
            ...COMMON,
          },
        },
      },
      "/v1/upstream/interactions/{interactionId}/events": {
        post: {
          operationId: "interactionEvent",
          summary: "Lifecycle event from the http upstream",
          tags: ["Upstream"],
          security: upstreamSecurity,
          parameters: [{ $ref: "#/components/parameters/InteractionId" }],
          description: CALLBACK_BINDING,
          requestBody: { required: true, content: { [JSON_TYPE]: { schema: ref("EventRequest") } } },
          responses: {
            "200": envelopeResponse("Recorded; the interaction's resulting state.", successOf(STATE_RESULT)),
            "400": BINDING_400,
            "401": failureResponse(["unauthorized"]),
            "429": failureResponse(["rate_limited"], undefined, RETRY_AFTER),
            "404": failureResponse(["not_found"]),
            "413": failureResponse(["payload_too_large"]),
            "415": failureResponse(["unsupported_media_type"]),
            "503": failureResponse(["config_invalid"]),
            ...COMMON,
          },
        },
      },
      "/v1/upstream/twilio/assignment": {
        post: {
          operationId: "twilioAssignment",
          summary: "Twilio TaskRouter assignment callback (UPSTREAM=twilio-taskrouter); answers in Twilio's format",
          tags: ["Upstream"],
          security: [{ twilioSignature: [] }],
          requestBody: {
            required: true,
            content: { "application/x-www-form-urlencoded": { schema: { type: "object", additionalProperties: { type: "string" } } } },
          },
          responses: {
            "200": {
              description:
                "Twilio's instruction: accept, reject (the interaction is no longer waiting, the Task is not the interaction's own, or the reservation is not pending), or {} for a Task the proxy did not make.",
              content: { [JSON_TYPE]: { schema: { type: "object", properties: { instruction: { enum: ["accept", "reject"] } } } } },
            },
            "401": failureResponse(["unauthorized"]),
            "404": failureResponse(["not_found"]),
            "413": failureResponse(["payload_too_large"]),
            "429": failureResponse(["rate_limited"], undefined, RETRY_AFTER),
            "503": failureResponse(["config_invalid"]),
            ...COMMON,
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "One of DIYALOG_API_KEYS." },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "One of DIYALOG_API_KEYS." },
        webhookSignature: {
          type: "apiKey",
          in: "header",
          name: "webhook-signature",
          description:
            'Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with UPSTREAM_SIGNING_SECRET; ±300 s.',
        },
        twilioSignature: { type: "apiKey", in: "header", name: "X-Twilio-Signature", description: "Twilio's request signature (auth token)." },
      },
      parameters: {
        InteractionId: { name: "interactionId", in: "path", required: true, schema: ref("InteractionId") },
        RequestId: {
          name: "x-request-id",
          in: "header",
          required: false,
          description: "Kept, returned and forwarded upstream when it is 1-128 characters of [A-Za-z0-9._:-]; otherwise a fresh one is made.",
          schema: { type: "string" },
        },
      },
      headers: {
        "Retry-After": { description: "Seconds to wait before trying again.", schema: { type: "integer", minimum: 0 } },
        Allow: { description: "The methods the path accepts.", schema: { type: "string" } },
      },
      schemas: {
        ErrorCode: {
          ...jsonSchema(ErrorCodeSchema),
          description: ERROR_CODES.map((c) => `- \`${c}\`: ${ERROR_MEANINGS[c]}`).join("\n"),
        },
        Failure: {
          type: "object",
          description: "The envelope of every failure (4xx/5xx).",
          properties: {
            success: { const: false },
            errorMessage: { type: "string" },
            errorCode: ref("ErrorCode"),
            result: { anyOf: [{ type: "object" }, { type: "null" }] },
          },
          required: ["success", "errorMessage", "errorCode", "result"],
        },
        InteractionId: {
          type: "string",
          pattern: interactionIdPattern,
          maxLength: 128,
          description: "Opaque, URL-safe, unguessable (86 characters: where it is stored and 128 random bits).",
        },
        State: { type: "string", enum: STATES },
        CreateInteractionRequest: describeCreateRequest(jsonSchema(CreateInteractionBody)),
        CustomerRequest: describeCustomerRequest(jsonSchema(CustomerRequestBody)),
        CustomerLookup: CUSTOMER_LOOKUP,
        CustomerErasure: CUSTOMER_ERASURE,
        Interaction: jsonSchema(InteractionView, "output"),
        SimulatorSnapshot: jsonSchema(SimulatorSnapshot, "output"),
        Session: jsonSchema(Session, "output"),
        Health: jsonSchema(Health, "output"),
        ClaimRequest: describeCallback(jsonSchema(ClaimBody)),
        EventRequest: describeCallback(jsonSchema(EventBody)),
      },
    },
  };
}

/** The file as committed: two-space JSON and a final newline. */
export function renderOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
