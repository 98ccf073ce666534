import { DroppedResponse } from "./common";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * A faithful fake of the three Amazon Connect operations the `amazon-connect` adapter uses, written
 * from the Amazon Connect API reference (and the botocore service model, `connect/2017-08-08`):
 *
 * - StartTaskContact `PUT /contact/task` `{InstanceId, ContactFlowId, Name, Attributes, ClientToken}`
 *   → 200 `{ContactId}`; the same ClientToken returns the same ContactId.
 * - DescribeContact `GET /contacts/{InstanceId}/{ContactId}` → 200 `{Contact: {…}}` with
 *   `AgentInfo.ConnectedToAgentTimestamp` once an agent accepted and `DisconnectTimestamp` once ended
 *   (epoch seconds, as restJson1 sends timestamps).
 * - StopContact `POST /contact/stop` `{ContactId, InstanceId}` → 200 with an empty body; like the
 *   real service it ends a task in any state, with an agent or not.
 *
 * Every request must carry a valid SigV4 signature (service `connect`), recomputed here with
 * node:crypto independently of the proxy's signer; errors are restJson1: `x-amzn-ErrorType` plus a
 * JSON body `{"Message": …}`, with the status codes of the service model (400 InvalidParameter /
 * InvalidRequest, 402 ServiceQuotaExceeded, 403 AccessDenied and credential errors, 404
 * ResourceNotFound, 429 Throttling, 500 InternalService).
 *
 * It runs in Node as miniflare's outboundService. Tests steer it over fetch:
 * GET /__control/state, POST /__control/{reset,faults,accept,end,sign}.
 */

export type Operation = "StartTaskContact" | "DescribeContact" | "StopContact";

export interface FakeConnectSettings {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  instanceId: string;
  contactFlowId: string;
  queueId: string;
}

/** The values the "connect" vitest project gives both the worker and the fake (test-only). */
export const CONNECT_TEST: FakeConnectSettings = {
  region: "eu-central-1",
  accessKeyId: "AKIDFAKECONNECT00001",
  secretAccessKey: "fake+connect/secret+key/for+tests+only+0",
  instanceId: "9c2e3d4a-5b6c-4d7e-8f90-a1b2c3d4e5f6",
  contactFlowId: "846ec553-a005-41c0-8341-0123456789ab",
  queueId: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
};

export interface FaultRule {
  /** Only this operation (default: any). */
  op?: Operation;
  /** How many matching requests it affects. */
  count: number;
  /**
   * `error`: answer with `status`/`type` and do nothing; `drop`: do the work, then lose the answer
   * (the transport fails, as when a connection breaks after the service committed).
   */
  kind: "error" | "drop";
  status?: number;
  type?: string;
}

export interface ConnectFaults {
  rules?: FaultRule[];
  /** The race: right before the next StopContact lands, this agent accepts the task. */
  agentBeforeStop?: string;
}

export interface FakeContact {
  ContactId: string;
  ClientToken: string;
  InstanceId: string;
  ContactFlowId: string;
  Name: string;
  Attributes: Record<string, string>;
  initiatedAt: number;
  agentId?: string;
  connectedAt?: number;
  disconnectedAt?: number;
  /** True when StopContact ended it while an agent had it (what the adapter must avoid). */
  stoppedUnderAgent?: boolean;
}

export interface LoggedRequest {
  op: Operation | "unknown";
  status: number;
  contactId?: string;
  clientToken?: string;
  at: number;
}

/** Marks text that must never reach a proxy answer (it stands for the vendor's message text). */
export const VENDOR_DETAIL = "connect-internal-detail";

// ---------------------------------------------------------------------------------------------
// SigV4, written from the AWS General Reference ("Create a signed AWS API request").

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

export interface SignatureInput {
  method: string;
  /** Absolute URL as sent (path already percent-encoded, as on the wire). */
  url: string;
  /** Header values by lower-case name; `host` defaults to the URL's host. */
  headers: Record<string, string>;
  body: string;
  signedHeaders: string[];
  amzDate: string;
  region: string;
  service: string;
  secretAccessKey: string;
}

/** The hex signature AWS computes for a request (non-S3 rules: path segments encoded once more). */
export function sigv4Signature(input: SignatureInput): string {
  const url = new URL(input.url);
  const path = url.pathname.replace(/\/+/g, "/");
  const canonicalUri = path.split("/").map(rfc3986).join("/");
  const canonicalQuery = [...url.searchParams]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const value = (name: string) => (name === "host" ? (input.headers.host ?? url.host) : (input.headers[name] ?? "")).trim().replace(/\s+/g, " ");
  const canonicalHeaders = input.signedHeaders.map((h) => `${h}:${value(h)}\n`).join("");
  const payloadHash = input.headers["x-amz-content-sha256"] ?? sha256(input.body);
  const canonical = [input.method.toUpperCase(), canonicalUri, canonicalQuery, canonicalHeaders, input.signedHeaders.join(";"), payloadHash].join("\n");
  const scope = `${input.amzDate.slice(0, 8)}/${input.region}/${input.service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", input.amzDate, scope, sha256(canonical)].join("\n");
  const kDate = hmac(`AWS4${input.secretAccessKey}`, input.amzDate.slice(0, 8));
  const kSigning = hmac(hmac(hmac(kDate, input.region), input.service), "aws4_request");
  return createHmac("sha256", kSigning).update(toSign, "utf8").digest("hex");
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

// ---------------------------------------------------------------------------------------------

const MAX_ATTRIBUTE_BYTES = 32_768;

function awsError(status: number, type: string, message: string): Response {
  return new Response(JSON.stringify({ Message: `${message} (${VENDOR_DETAIL})` }), {
    status,
    headers: {
      "content-type": "application/json",
      "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazonaws.connect/`,
      "x-amzn-requestid": crypto.randomUUID(),
    },
  });
}

function ok(body: unknown): Response {
  return new Response(body === undefined ? "" : JSON.stringify(body), {
    status: 200,
    headers: { "content-type": "application/json", "x-amzn-requestid": crypto.randomUUID() },
  });
}

const seconds = (ms: number) => ms / 1000;

export class FakeConnect {
  contacts = new Map<string, FakeContact>();
  private byToken = new Map<string, string>();
  requests: LoggedRequest[] = [];
  /** Requests refused for their signature, by AWS error type. */
  refusedSignatures: string[] = [];
  faults: ConnectFaults = {};

  constructor(private readonly settings: FakeConnectSettings) {}

  reset(): void {
    this.contacts.clear();
    this.byToken.clear();
    this.requests = [];
    this.refusedSignatures = [];
    this.faults = {};
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    if (url.pathname.startsWith("/__control/")) return this.control(url.pathname, request.method, body);

    const op = this.operation(request.method, url.pathname);
    const entry: LoggedRequest = { op: op ?? "unknown", status: 0, at: Date.now() };
    this.requests.push(entry);
    const refusal = this.verify(request, url, body);
    if (refusal) {
      this.refusedSignatures.push(refusal.headers.get("x-amzn-errortype")!.split(":")[0]!);
      entry.status = refusal.status;
      return refusal;
    }
    if (!op) {
      entry.status = 404;
      return awsError(404, "UnknownOperationException", "no such operation");
    }

    this.annotate(op, url, body, entry);
    const rule = (this.faults.rules ?? []).find((r) => r.count > 0 && (r.op === undefined || r.op === op));
    if (rule) rule.count -= 1;
    if (rule?.kind === "error") {
      entry.status = rule.status ?? 500;
      return awsError(entry.status, rule.type ?? "InternalServiceException", "injected fault");
    }
    const response = this.route(op, url, body, entry);
    entry.status = response.status;
    if (rule?.kind === "drop") throw new DroppedResponse();
    return response;
  }

  /** Which contact (or ClientToken) a request concerns, for the request log; faults included. */
  private annotate(op: Operation, url: URL, body: string, entry: LoggedRequest): void {
    if (op === "DescribeContact") {
      entry.contactId = decodeURIComponent(url.pathname.split("/")[3]!);
      return;
    }
    try {
      const input = JSON.parse(body) as { ContactId?: unknown; ClientToken?: unknown };
      if (typeof input.ContactId === "string") entry.contactId = input.ContactId;
      if (typeof input.ClientToken === "string") entry.clientToken = input.ClientToken;
    } catch {
      // refused later by the operation itself
    }
  }

  private operation(method: string, path: string): Operation | undefined {
    if (method === "PUT" && path === "/contact/task") return "StartTaskContact";
    if (method === "POST" && path === "/contact/stop") return "StopContact";
    if (method === "GET" && /^\/contacts\/[^/]+\/[^/]+$/.test(path)) return "DescribeContact";
    return undefined;
  }

  /** A refusal in AWS's own shape, or undefined when the signature holds. */
  private verify(request: Request, url: URL, body: string): Response | undefined {
    const auth = request.headers.get("authorization");
    if (!auth) return awsError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    const m = AUTHORIZATION.exec(auth);
    if (!m) return awsError(400, "IncompleteSignatureException", "Authorization header requires Credential, SignedHeaders and Signature");
    const [, keyId, date, region, service, signedList, signature] = m as unknown as string[];
    if (keyId !== this.settings.accessKeyId) return awsError(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    const amzDate = request.headers.get("x-amz-date") ?? "";
    const signedHeaders = signedList!.split(";");
    if (!signedHeaders.includes("host") || !signedHeaders.includes("x-amz-date") || !/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== date) {
      return awsError(400, "IncompleteSignatureException", "host and x-amz-date must be signed and match the credential date");
    }
    const at = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
    if (Math.abs(Date.now() - at) > 5 * 60_000) return awsError(403, "InvalidSignatureException", "Signature expired");
    if (region !== this.settings.region || service !== "connect") {
      return awsError(403, "InvalidSignatureException", "Credential should be scoped to a valid region and to the connect service");
    }
    const headers: Record<string, string> = {};
    request.headers.forEach((v, k) => (headers[k] = v));
    headers.host = url.host;
    const expected = sigv4Signature({
      method: request.method,
      url: request.url,
      headers,
      body,
      signedHeaders,
      amzDate,
      region: region!,
      service: service!,
      secretAccessKey: this.settings.secretAccessKey,
    });
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature!))) {
      return awsError(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");
    }
    return undefined;
  }

  private route(op: Operation, url: URL, body: string, entry: LoggedRequest): Response {
    let input: Record<string, unknown> = {};
    if (body !== "") {
      try {
        input = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return awsError(400, "SerializationException", "body is not JSON");
      }
    }
    if (op === "StartTaskContact") return this.startTask(input, entry);
    if (op === "StopContact") return this.stop(input);
    const [, , instanceId, contactId] = url.pathname.split("/").map(decodeURIComponent);
    return this.describe(instanceId!, contactId!);
  }

  private startTask(input: Record<string, unknown>, entry: LoggedRequest): Response {
    const { InstanceId, ContactFlowId, Name, Attributes, ClientToken } = input as Record<string, any>;
    if (typeof InstanceId !== "string" || InstanceId.length < 1 || InstanceId.length > 100) return awsError(400, "InvalidParameterException", "InstanceId");
    if (typeof Name !== "string" || Name.length < 1 || Name.length > 512) return awsError(400, "InvalidParameterException", "Name");
    if (ClientToken !== undefined && (typeof ClientToken !== "string" || ClientToken.length > 500)) return awsError(400, "InvalidParameterException", "ClientToken");
    if (InstanceId !== this.settings.instanceId) return awsError(404, "ResourceNotFoundException", "instance not found");
    if (ContactFlowId !== this.settings.contactFlowId) return awsError(404, "ResourceNotFoundException", "flow not found");
    const attributes = (Attributes ?? {}) as Record<string, unknown>;
    let bytes = 0;
    for (const [k, v] of Object.entries(attributes)) {
      if (!/^[A-Za-z0-9_-]{1,32767}$/.test(k) || typeof v !== "string" || v.length > 32_767) {
        return awsError(400, "InvalidParameterException", "attribute keys can include only alphanumeric, dash, and underscore characters");
      }
      bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    }
    if (bytes > MAX_ATTRIBUTE_BYTES) return awsError(400, "InvalidParameterException", "attributes exceed 32768 bytes");

    const token = ClientToken ?? crypto.randomUUID();
    const existing = this.byToken.get(token);
    if (existing) {
      entry.contactId = existing;
      return ok({ ContactId: existing });
    }
    const id = crypto.randomUUID();
    this.byToken.set(token, id);
    this.contacts.set(id, {
      ContactId: id,
      ClientToken: token,
      InstanceId,
      ContactFlowId,
      Name,
      Attributes: attributes as Record<string, string>,
      initiatedAt: Date.now(),
    });
    entry.contactId = id;
    return ok({ ContactId: id });
  }

  private stop(input: Record<string, unknown>): Response {
    const { ContactId, InstanceId } = input as Record<string, any>;
    if (typeof ContactId !== "string" || typeof InstanceId !== "string") return awsError(400, "InvalidParameterException", "ContactId and InstanceId are required");
    const contact = this.contacts.get(ContactId);
    if (InstanceId !== this.settings.instanceId || !contact) return awsError(404, "ResourceNotFoundException", "contact not found");
    if (this.faults.agentBeforeStop && contact.disconnectedAt === undefined && contact.connectedAt === undefined) {
      this.accept(ContactId, this.faults.agentBeforeStop);
      delete this.faults.agentBeforeStop;
    }
    if (contact.disconnectedAt === undefined) {
      contact.disconnectedAt = Date.now();
      if (contact.connectedAt !== undefined) contact.stoppedUnderAgent = true;
    }
    return ok(undefined);
  }

  private describe(instanceId: string, contactId: string): Response {
    const c = this.contacts.get(contactId);
    if (instanceId !== this.settings.instanceId || !c) return awsError(404, "ResourceNotFoundException", "contact not found");
    const contact: Record<string, unknown> = {
      Arn: `arn:aws:connect:${this.settings.region}:123456789012:instance/${c.InstanceId}/contact/${c.ContactId}`,
      Id: c.ContactId,
      InitialContactId: c.ContactId,
      Channel: "TASK",
      InitiationMethod: "API",
      Name: c.Name,
      InitiationTimestamp: seconds(c.initiatedAt),
      LastUpdateTimestamp: seconds(c.disconnectedAt ?? c.connectedAt ?? c.initiatedAt),
      QueueInfo: { Id: this.settings.queueId, EnqueueTimestamp: seconds(c.initiatedAt) },
    };
    if (c.agentId !== undefined) {
      contact.AgentInfo = { Id: c.agentId, ConnectedToAgentTimestamp: seconds(c.connectedAt!) };
    }
    if (c.disconnectedAt !== undefined) contact.DisconnectTimestamp = seconds(c.disconnectedAt);
    return ok({ Contact: contact });
  }

  /** An agent accepts the task in the CCP; false when it is no longer there to accept. */
  accept(contactId: string, agentId: string): boolean {
    const c = this.contacts.get(contactId);
    if (!c || c.disconnectedAt !== undefined || c.connectedAt !== undefined) return false;
    c.agentId = agentId;
    c.connectedAt = Date.now();
    return true;
  }

  private json(status: number, body: unknown): Response {
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  }

  private control(path: string, method: string, body: string): Response {
    const input = body === "" ? {} : (JSON.parse(body) as Record<string, any>);
    if (path === "/__control/state" && method === "GET") {
      return this.json(200, { contacts: [...this.contacts.values()], requests: this.requests, refusedSignatures: this.refusedSignatures });
    }
    if (path === "/__control/reset" && method === "POST") {
      this.reset();
      return this.json(200, {});
    }
    if (path === "/__control/faults" && method === "POST") {
      this.faults = input as ConnectFaults;
      return this.json(200, this.faults);
    }
    if (path === "/__control/accept" && method === "POST") {
      return this.accept(input.contactId, input.agentId) ? this.json(200, { accepted: true }) : this.json(409, { accepted: false });
    }
    if (path === "/__control/end" && method === "POST") {
      // The flow disconnected the task without an agent (e.g. queue closed).
      const c = this.contacts.get(input.contactId);
      if (!c || c.disconnectedAt !== undefined) return this.json(409, {});
      c.disconnectedAt = Date.now();
      return this.json(200, {});
    }
    if (path === "/__control/sign" && method === "POST") {
      return this.json(200, { signature: sigv4Signature(input as SignatureInput) });
    }
    return this.json(404, { error: "no control route" });
  }
}
