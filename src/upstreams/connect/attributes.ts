import type { DispatchRequest } from "../adapter";

/**
 * The task's contact attributes. Connect allows keys of `[A-Za-z0-9_-]` only, values up to 32,767
 * characters, and 32,768 UTF-8 bytes across all keys and values of a contact; anything else must be
 * refused here with a clear reason rather than become an opaque InvalidParameterException.
 *
 * Every other character of a Diyalog key becomes `_` (`Primary.Manager` → `Primary_Manager`). Two
 * keys that end up the same are refused, since one value would silently replace the other. The
 * proxy's own keys (`interactionId`, `customerId`, the identity attribute) win over attachedData.
 */

export const MAX_ATTRIBUTE_BYTES = 32_768;
const MAX_KEY_OR_VALUE = 32_767;

export type AttributesResult = { ok: true; attributes: Record<string, string> } | { ok: false; reason: string };

export function connectKey(key: string): string {
  return key.replace(/[^A-Za-z0-9_-]/gu, "_");
}

export function taskAttributes(request: DispatchRequest, identityNumberAttribute: string): AttributesResult {
  const attributes: Record<string, string> = Object.create(null);
  const origin = new Map<string, string>();
  for (const [key, value] of Object.entries(request.attributes)) {
    const mapped = connectKey(key);
    const earlier = origin.get(mapped);
    if (earlier !== undefined) {
      return { ok: false, reason: `attributes ${JSON.stringify(earlier)} and ${JSON.stringify(key)} both become Connect key ${JSON.stringify(mapped)}` };
    }
    origin.set(mapped, key);
    attributes[mapped] = value;
  }
  attributes.interactionId = request.interactionId;
  attributes.customerId = request.customerId;
  if (request.identityNumber !== undefined && identityNumberAttribute !== "") {
    attributes[connectKey(identityNumberAttribute)] = request.identityNumber;
  }

  const encoder = new TextEncoder();
  let bytes = 0;
  for (const [key, value] of Object.entries(attributes)) {
    if (key.length > MAX_KEY_OR_VALUE || value.length > MAX_KEY_OR_VALUE) {
      return { ok: false, reason: `attribute ${JSON.stringify(key)} is longer than Connect's ${MAX_KEY_OR_VALUE} characters` };
    }
    bytes += encoder.encode(key).length + encoder.encode(value).length;
  }
  if (bytes > MAX_ATTRIBUTE_BYTES) {
    return { ok: false, reason: `attributes take ${bytes} bytes of UTF-8; Amazon Connect allows at most ${MAX_ATTRIBUTE_BYTES} (32 KiB) per contact` };
  }
  return { ok: true, attributes };
}
