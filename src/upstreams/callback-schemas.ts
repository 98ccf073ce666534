import * as z from "zod/mini";

/**
 * The callback bodies of the generic `http` contract (design §2) as zod schemas, for the OpenAPI
 * document (scripts/lib/openapi.ts). The worker does not import this module: it checks the same
 * rules with `callbackProblem` (src/upstreams/routes.ts), which keeps zod's literal and length-check
 * classes out of the bundle; test/integration/openapi.test.ts proves the two agree.
 */

const CallbackInteractionId = z.string().check(z.minLength(1), z.maxLength(128));

// `type` is a `z.literal` in both bodies (a list of values reads as an enum in JSON Schema).

export const ClaimBody = z.object({
  type: z.literal("claim"),
  interactionId: CallbackInteractionId,
  agentId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
});
export const EventBody = z.object({
  type: z.literal(["abandoned", "completed", "failed"]),
  interactionId: CallbackInteractionId,
  reason: z.optional(z.string().check(z.maxLength(500))),
});
