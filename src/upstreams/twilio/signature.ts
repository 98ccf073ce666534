import { sameSignature } from "../../security/digest";
import { encodeBase64 } from "../../security/webhook-signature";

/**
 * Twilio's `X-Twilio-Signature` (Twilio docs, "Webhooks security"): base64 of HMAC-SHA1, keyed with
 * the account's auth token, over the full URL Twilio called followed by every POST parameter sorted
 * by name, each as name + value with no separators.
 *
 * Twilio does not always sign the URL in the same form. Its own validator (twilio-node,
 * `src/webhooks/webhooks.ts`, `validateRequest`) accepts four: the URL without a port, with the
 * scheme's standard port (`:443` / `:80`) when it has none, and each of those with the query string
 * re-encoded the way Node's `querystring` module does ("since signature generation on the back end
 * is inconsistent"). twilio-ruby and twilio-php accept the port forms too. `twilioUrlForms` gives
 * the same list, and a signature over any of them is accepted.
 */

const encoder = new TextEncoder();

/** One imported key per token (in practice one); only settled keys are kept. */
const keys = new Map<string, CryptoKey>();

async function keyFor(authToken: string): Promise<CryptoKey> {
  let key = keys.get(authToken);
  if (!key) {
    key = await crypto.subtle.importKey("raw", encoder.encode(authToken), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
    keys.set(authToken, key);
  }
  return key;
}

/** The signature Twilio would send for this URL and these form parameters. */
export async function twilioSignature(authToken: string, url: string, params: Iterable<[string, string]>): Promise<string> {
  // Sorted by name, then value, so a repeated name signs the way Twilio's own helpers compute it.
  const sorted = [...params].sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  let data = url;
  for (const [name, value] of sorted) data += name + value;
  return encodeBase64(await crypto.subtle.sign("HMAC", await keyFor(authToken), encoder.encode(data)));
}

/** The URL with the scheme's standard port written out (`URL` itself drops it), as twilio-node's `addPort`. */
function withStandardPort(url: URL): string {
  if (url.port) return url.toString();
  const port = url.protocol === "https:" ? ":443" : ":80";
  const credentials = url.username || url.password ? `${url.username}${url.password ? `:${url.password}` : ""}@` : "";
  return `${url.protocol}//${credentials}${url.host}${port}${url.pathname}${url.search}${url.hash}`;
}

/** As twilio-node's `removePort`. */
function withoutPort(url: URL): string {
  const copy = new URL(url);
  copy.port = "";
  return copy.toString();
}

/** Node's `querystring.escape`: encodeURIComponent's unreserved set. */
const escapeLegacy = encodeURIComponent;

/** Node's `querystring.unescape` for a form value: `+` is a space, bad escapes are kept as they are. */
function unescapeLegacy(text: string): string {
  const spaced = text.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/%[0-9a-fA-F]{2}/g, (hex) => {
      try {
        return decodeURIComponent(hex);
      } catch {
        return hex;
      }
    });
  }
}

/**
 * twilio-node's `withLegacyQuerystring`: the query parsed with `querystring.parse` (repeated names
 * grouped under their first appearance) and written back with `querystring.stringify`.
 */
function withLegacyQuery(url: string): string {
  const parsed = new URL(url);
  if (!parsed.search) return url;
  const grouped = new Map<string, string[]>();
  for (const pair of parsed.search.slice(1).split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = unescapeLegacy(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : unescapeLegacy(pair.slice(eq + 1));
    const values = grouped.get(name);
    if (values) values.push(value);
    else grouped.set(name, [value]);
  }
  const query = [...grouped].flatMap(([name, values]) => values.map((v) => `${escapeLegacy(name)}=${escapeLegacy(v)}`)).join("&");
  parsed.search = "";
  return `${parsed.toString()}?${query}`;
}

/** Every form of `url` a signature is checked against (twilio-node's `validateRequest`), without repeats. */
export function twilioUrlForms(url: string): string[] {
  const parsed = new URL(url);
  const ports = [withoutPort(parsed), withStandardPort(parsed)];
  return [...new Set([...ports, ...ports.map(withLegacyQuery)])];
}

/**
 * True when `header` is the signature of this request over any of the URL's forms; compared in
 * constant time, never throws.
 */
export async function verifyTwilioSignature(
  authToken: string,
  header: string | null | undefined,
  url: string,
  params: Iterable<[string, string]>,
): Promise<boolean> {
  if (!header) return false;
  let forms: string[];
  try {
    forms = twilioUrlForms(url);
  } catch {
    return false;
  }
  const pairs = [...params];
  let valid = false;
  for (const form of forms) if (sameSignature(header, await twilioSignature(authToken, form, pairs))) valid = true;
  return valid;
}
