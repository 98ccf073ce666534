import type { ConnectConfig } from "./config";
import { awsFailure, unreachable, type Failure, type Operation } from "./errors";
import { signRequest } from "./sigv4";

/**
 * The three Amazon Connect operations the adapter needs, as the REST API reference defines them,
 * each one signed request and one classified answer:
 *
 * - StartTaskContact: `PUT /contact/task` → `{ContactId}`
 * - DescribeContact: `GET /contacts/{InstanceId}/{ContactId}` → `{Contact: {AgentInfo, DisconnectTimestamp, …}}`
 * - StopContact: `POST /contact/stop` `{ContactId, InstanceId}` → empty 200
 */

export type Result<T> = { ok: true; value: T } | Failure;

export interface StartTask {
  Name: string;
  Attributes: Record<string, string>;
  ClientToken: string;
}

/** What the proxy needs to know of a contact. Timestamps are epoch seconds, as Connect sends them. */
export interface ContactStatus {
  agentId?: string;
  connectedToAgentAt?: number;
  disconnectedAt?: number;
}

export interface ConnectClient {
  startTask(task: StartTask, signal: AbortSignal): Promise<Result<string>>;
  describeContact(contactId: string, signal: AbortSignal): Promise<Result<ContactStatus>>;
  stopContact(contactId: string, signal: AbortSignal): Promise<Result<void>>;
}

const timestamp = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

function contactStatus(body: unknown): ContactStatus | undefined {
  const contact = (body as { Contact?: unknown } | null)?.Contact;
  if (!contact || typeof contact !== "object") return undefined;
  const c = contact as { AgentInfo?: { Id?: unknown; ConnectedToAgentTimestamp?: unknown }; DisconnectTimestamp?: unknown };
  const status: ContactStatus = {};
  const agentId = c.AgentInfo?.Id;
  const connected = timestamp(c.AgentInfo?.ConnectedToAgentTimestamp);
  const disconnected = timestamp(c.DisconnectTimestamp);
  if (typeof agentId === "string" && agentId !== "") status.agentId = agentId;
  if (connected !== undefined) status.connectedToAgentAt = connected;
  if (disconnected !== undefined) status.disconnectedAt = disconnected;
  return status;
}

export function connectClient(config: ConnectConfig, fetcher: typeof fetch = (input, init) => fetch(input, init)): ConnectClient {
  const key = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey, region: config.region, service: "connect" };

  async function call(operation: Operation, method: string, path: string, signal: AbortSignal, payload?: unknown): Promise<Response | Failure> {
    const url = `${config.endpoint}${path}`;
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    try {
      const headers = await signRequest(key, {
        method,
        url,
        ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
      });
      const response = await fetcher(url, { method, headers, signal, ...(body === undefined ? {} : { body }) });
      return response.ok ? response : await awsFailure(operation, response);
    } catch (err) {
      return unreachable(operation, err);
    }
  }

  /** A 2xx whose body can't be read is transient: asking again is safe for all three operations. */
  async function read<T>(operation: Operation, response: Response, pick: (body: unknown) => T | undefined): Promise<Result<T>> {
    let value: T | undefined;
    try {
      value = pick(await response.json());
    } catch {
      value = undefined;
    }
    return value === undefined ? { ok: false, transient: true, reason: `${operation}: unreadable answer`, status: response.status } : { ok: true, value };
  }

  return {
    async startTask(task, signal) {
      const payload = { InstanceId: config.instanceId, ContactFlowId: config.contactFlowId, ...task };
      const response = await call("StartTaskContact", "PUT", "/contact/task", signal, payload);
      if (!(response instanceof Response)) return response;
      return read("StartTaskContact", response, (b) => {
        const id = (b as { ContactId?: unknown } | null)?.ContactId;
        return typeof id === "string" && id !== "" && id.length <= 256 ? id : undefined;
      });
    },

    async describeContact(contactId, signal) {
      const path = `/contacts/${encodeURIComponent(config.instanceId)}/${encodeURIComponent(contactId)}`;
      const response = await call("DescribeContact", "GET", path, signal);
      if (!(response instanceof Response)) return response;
      return read("DescribeContact", response, contactStatus);
    },

    async stopContact(contactId, signal) {
      const response = await call("StopContact", "POST", "/contact/stop", signal, { ContactId: contactId, InstanceId: config.instanceId });
      if (!(response instanceof Response)) return response;
      await response.body?.cancel();
      return { ok: true, value: undefined };
    },
  };
}
