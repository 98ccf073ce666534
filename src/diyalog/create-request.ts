import { ApiError } from "../http/envelope";

/**
 * Diyalog's create request and its normalisation (design §1 "Create request").
 * Diyalog has sent three shapes over time; all become one `CreateInteraction`.
 */

export const LIMITS = {
  customerIdLength: 128,
  identityNumberLength: 64,
  attributes: 50,
  keyLength: 64,
  valueLength: 1024,
} as const;

/** A normalised attribute map: keys like `__proto__` are own data properties, never a prototype. */
export type Attributes = Record<string, string>;

export interface CreateInteraction {
  customerId: string;
  attributes: Attributes;
  identityNumber?: string;
}

const SCALAR = "must be a string, number, boolean or null (nested values are not allowed)";

function isScalar(v: unknown): boolean {
  return typeof v === "string" || typeof v === "boolean" || v === null || (typeof v === "number" && Number.isFinite(v));
}

/** The first key of an attribute map whose value is not a scalar (in `for…in` order, `__proto__` aside). */
function nonScalarKey(map: Record<string, unknown>): string | undefined {
  for (const key in map) if (key !== "__proto__" && !isScalar(map[key])) return key;
  return undefined;
}

/**
 * The first problem with the body's shape, as Diyalog sends it (`CreateInteractionBody`,
 * src/diyalog/create-schema.ts, the OpenAPI document's source): the fields in order, and within
 * `attachedData` the deepest problem (a value inside a map before a member that is no map).
 * Unknown top-level fields are allowed (Diyalog may add some). `normaliseCreate` then applies the
 * limits below.
 */
export function createShapeProblem(body: Record<string, unknown>): { path: PropertyKey[]; message: string } | undefined {
  const { customerId, attachedData: data, identityNumber } = body;
  if (typeof customerId !== "string" && !(typeof customerId === "number" && Number.isFinite(customerId))) {
    return { path: ["customerId"], message: "is required and must be a string or a non-negative integer" };
  }
  if (Array.isArray(data)) {
    let notMap: number | undefined;
    for (const [i, item] of data.entries()) {
      if (!isPlainObject(item)) {
        notMap ??= i;
        continue;
      }
      const key = nonScalarKey(item);
      if (key !== undefined) return { path: ["attachedData", i, key], message: SCALAR };
    }
    if (notMap !== undefined) return { path: ["attachedData", notMap], message: "must be an object" };
  } else if (isPlainObject(data)) {
    const key = nonScalarKey(data);
    if (key !== undefined) return { path: ["attachedData", key], message: SCALAR };
  } else if (data !== undefined && data !== null) {
    return { path: ["attachedData"], message: "must be an array of objects or an object" };
  }
  if (identityNumber !== undefined && identityNumber !== null && typeof identityNumber !== "string") {
    return { path: ["identityNumber"], message: "must be a string" };
  }
  return undefined;
}

/**
 * `attachedData.2.x` → `attachedData[2].x`, the way a reader writes it. A key with a lone surrogate
 * is shown with U+FFFD in its place, so no error message carries text that is not well-formed.
 */
function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), "").toWellFormed();
}

// Control characters are C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F). customerId and
// identityNumber refuse all of them; attachedData keys and values allow tab (U+0009) only.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_EXCEPT_TAB = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/**
 * Text must be well-formed Unicode: a lone surrogate (JSON `"\ud83d"`) has no UTF-8 form, so it
 * would be stored, digested and forwarded as U+FFFD and two different inputs would become one.
 */
function wellFormed(text: string): boolean {
  return text.isWellFormed();
}

function invalid(field: string, message: string): ApiError {
  return new ApiError(400, "validation_failed", `${field}: ${message}`, { field });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function normaliseCustomerId(value: unknown): string {
  let id: string;
  if (typeof value === "string") id = value.trim();
  else if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) id = String(value);
  else if (value === undefined || value === null) throw invalid("customerId", "is required");
  else throw invalid("customerId", "must be a string or a non-negative integer");
  if (id.length === 0) throw invalid("customerId", "must not be empty");
  if (!wellFormed(id)) throw invalid("customerId", "must be well-formed Unicode (no lone surrogates)");
  if (id.length > LIMITS.customerIdLength) throw invalid("customerId", `must be at most ${LIMITS.customerIdLength} characters`);
  if (CONTROL.test(id)) throw invalid("customerId", "must not contain control characters");
  return id;
}

function normaliseIdentityNumber(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalid("identityNumber", "must be a string");
  if (value.length > LIMITS.identityNumberLength) {
    throw invalid("identityNumber", `must be at most ${LIMITS.identityNumberLength} characters`);
  }
  if (!wellFormed(value)) throw invalid("identityNumber", "must be well-formed Unicode (no lone surrogates)");
  if (CONTROL.test(value)) throw invalid("identityNumber", "must not contain control characters");
  return value;
}

function mergeInto(target: Attributes, source: Record<string, unknown>, field: string): void {
  for (const key of Object.keys(source)) {
    const value = source[key];
    // Shown in an error message: cut, and never with a lone surrogate of its own.
    const at = `${field}.${(key.length > 64 ? key.slice(0, 64) + "…" : key).toWellFormed()}`;
    if (value === null) {
      delete target[key]; // a later null drops an earlier value, like any later key
      continue;
    }
    if (typeof value === "string") target[key] = value;
    else if (typeof value === "number" && Number.isFinite(value)) target[key] = String(value);
    else if (typeof value === "boolean") target[key] = String(value);
    else throw invalid(at, SCALAR);
  }
}

function normaliseAttachedData(value: unknown): Attributes {
  const attributes: Attributes = Object.create(null);
  if (value === undefined || value === null) return attributes;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (!isPlainObject(item)) throw invalid(`attachedData[${i}]`, "must be an object");
      mergeInto(attributes, item, `attachedData[${i}]`);
    });
  } else if (isPlainObject(value)) {
    mergeInto(attributes, value, "attachedData");
  } else {
    throw invalid("attachedData", "must be an array of objects or an object");
  }
  const keys = Object.keys(attributes);
  if (keys.length > LIMITS.attributes) throw invalid("attachedData", `must have at most ${LIMITS.attributes} keys`);
  for (const key of keys) {
    if (key.length === 0 || key.length > LIMITS.keyLength) {
      throw invalid("attachedData", `keys must be 1-${LIMITS.keyLength} characters`);
    }
    if (!wellFormed(key)) throw invalid("attachedData", "keys must be well-formed Unicode (no lone surrogates)");
    if (CONTROL_EXCEPT_TAB.test(key)) throw invalid("attachedData", "keys must not contain control characters");
    const v = attributes[key]!;
    if (v.length > LIMITS.valueLength) {
      throw invalid(`attachedData.${key}`, `must be at most ${LIMITS.valueLength} characters`);
    }
    if (!wellFormed(v)) throw invalid(`attachedData.${key}`, "must be well-formed Unicode (no lone surrogates)");
    if (CONTROL_EXCEPT_TAB.test(v)) throw invalid(`attachedData.${key}`, "must not contain control characters");
  }
  return attributes;
}

/** The body of a lookup or an erasure, `{"customerId"}`: the customerId normalised as a create's, or a 400. */
export function normaliseCustomerRequest(body: unknown): { customerId: string } {
  if (!isPlainObject(body)) throw invalid("body", "must be a JSON object");
  return { customerId: normaliseCustomerId(body.customerId) };
}

/** Turns a parsed JSON body into a `CreateInteraction`, or throws a 400 naming the field. */
export function normaliseCreate(body: unknown): CreateInteraction {
  if (!isPlainObject(body)) throw invalid("body", "must be a JSON object");
  const shape = createShapeProblem(body);
  if (shape) throw invalid(fieldName(shape.path) || "body", shape.message);
  const customerId = normaliseCustomerId(body.customerId);
  const attributes = normaliseAttachedData(body.attachedData);
  const identityNumber = normaliseIdentityNumber(body.identityNumber);
  // Structured clone (Durable Object RPC and storage) refuses null-prototype objects; fromEntries
  // defines own data properties, so `__proto__` stays a plain key in the copy too.
  const plain: Attributes = Object.fromEntries(Object.entries(attributes));
  return identityNumber === undefined
    ? { customerId, attributes: plain }
    : { customerId, attributes: plain, identityNumber };
}
