import * as z from "zod/mini";

/**
 * Diyalog's create request body as a zod schema, for the OpenAPI document (scripts/lib/openapi.ts).
 * The worker does not import this module: `createShapeProblem` (src/diyalog/create-request.ts)
 * checks the same shape, with the same first problem and message, which keeps zod out of the
 * bundle; test/integration/openapi.test.ts proves the two agree.
 */

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: "must be a string, number, boolean or null (nested values are not allowed)",
});
const attributeObject = z.catchall(z.object({}, { error: "must be an object" }), scalar);

/** The request body as Diyalog sends it. Unknown top-level fields are allowed (Diyalog may add some). */
export const CreateInteractionBody = z.object({
  customerId: z.union([z.string(), z.number()], { error: "is required and must be a string or a non-negative integer" }),
  attachedData: z.optional(z.union([z.array(attributeObject), attributeObject, z.null()], { error: "must be an array of objects or an object" })),
  identityNumber: z.optional(z.union([z.string(), z.null()], { error: "must be a string" })),
});

/**
 * The problem zod reports for `body` the way the worker reports it: the first issue, and for a union
 * the deepest issue of its members (the member Diyalog most likely meant). Used by the tests.
 */
export function zodCreateProblem(body: unknown): { path: PropertyKey[]; message: string } | undefined {
  const shape = z.safeParse(CreateInteractionBody, body);
  if (shape.success) return undefined;
  const issue = shape.error.issues[0]!;
  const nested =
    issue.code === "invalid_union"
      ? issue.errors.flat().reduce<(typeof issue.errors)[number][number] | undefined>(
          (deepest, i) => (deepest === undefined || i.path.length > deepest.path.length ? i : deepest),
          undefined,
        )
      : undefined;
  const chosen = nested && nested.path.length > 0 ? { ...nested, path: [...issue.path, ...nested.path] } : issue;
  return { path: chosen.path, message: chosen.message };
}
