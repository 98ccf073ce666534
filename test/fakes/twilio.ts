/**
 * A faithful fake of Twilio TaskRouter's Task resource and its assignment callback, written from
 * Twilio's public references (the twilio-oai spec `twilio_taskrouter_v1.json`, "Lifecycle of a
 * Task", "Handling Assignment Callbacks", "Mutation and Conflict Resolution", "Webhooks security").
 * It runs in Node as miniflare's outboundService; tests steer it over /__control/*.
 *
 * What it models:
 * - `POST /v1/Workspaces/{WS}/Tasks` (form: WorkflowSid, Attributes, Timeout…) → 201 Task JSON + ETag.
 * - `GET …/Tasks?EvaluateTaskAttributes=…` → `{tasks, meta}`; the expression subset `key == "value"`.
 * - `GET …/Tasks/{WT}/Reservations/{WR}` → the TaskReservation (`reservation_status` pending,
 *   accepted, rejected, timeout, canceled…), 404 (code 20404) when that Task has no such reservation.
 * - `GET …/Tasks/{WT}` → Task + `ETag`; `POST …/Tasks/{WT}` with `If-Match` → 412 (code 20412) when the
 *   ETag moved. The ETag is the Task's revision, bumped by every change (0, 1, 2…).
 * - Task states pending → reserved → assigned → wrapping → completed, canceled from pending/reserved
 *   only ("an assigned Task won't move to canceled"); a reject puts a reserved Task back to pending.
 * - HTTP Basic auth with AccountSid:AuthToken or an API key pair; errors as Twilio's
 *   `{code, message, more_info, status}`; throttling as 429 / 20429 with Retry-After.
 * - The assignment callback: form parameters as TaskRouter sends them, signed the way Twilio signs
 *   (HMAC-SHA1 with the auth token over the callback URL + sorted name/value pairs, base64). The
 *   fake cannot reach the worker under test itself, so `/__control/reserve` returns the request to
 *   deliver and `/__control/answer` applies the proxy's answer as TaskRouter would.
 */

import { DroppedResponse, base64 } from "./common";

export interface TwilioFakeOptions {
  accountSid: string;
  authToken: string;
  apiKeySid: string;
  apiKeySecret: string;
  workspaceSid: string;
  workflowSid: string;
  /** The Workflow's AssignmentCallbackUrl, exactly as configured in TaskRouter (what Twilio signs). */
  assignmentCallbackUrl: string;
}

export interface TwilioFaults {
  /** Probability that an API request answers 503 (code 20503) without doing anything. */
  error503?: number;
  /** Probability that an API request answers 429 (code 20429) without doing anything. */
  rateLimit?: number;
  /** Sent as Retry-After with a 429; omitted when undefined. */
  retryAfterSeconds?: number;
  /** Probability that a Task create is carried out but its answer is lost. */
  dropCreates?: number;
  /** Delay before answering (after the work is done), in ms. */
  delayMs?: number;
  /** Answer every create with this error (a permanent refusal). */
  rejectCreatesWith?: { status: number; code: number };
  /** The next this-many reads of a Task are each followed by another client's update (its ETag moves). */
  concurrentUpdates?: number;
}

export type AssignmentStatus = "pending" | "reserved" | "assigned" | "canceled" | "wrapping" | "completed";

export interface FakeReservation {
  sid: string;
  workerSid: string;
  status: "pending" | "accepted" | "rejected" | "canceled" | "timeout";
}

export interface FakeTask {
  sid: string;
  attributes: string;
  assignment_status: AssignmentStatus;
  revision: number;
  workflow_sid: string;
  timeout: number;
  reason: string | null;
  date_created: string;
  reservations: FakeReservation[];
  /** Set once TaskRouter would have deleted it (cancelled/completed Tasks go after five minutes). */
  deleted?: boolean;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: string;
  /** The Basic-auth user that authenticated (AC… or SK…), or null when refused. */
  principal: string | null;
  ifMatch: string | null;
  form: Record<string, string> | null;
  status: number;
  /** When the request arrived and when its answer was ready (ms since the epoch). */
  at: number;
  answeredAt: number;
  /** The work was done but the answer never left (fault injection). */
  dropped?: boolean;
}

export interface CallbackDelivery {
  reservationSid: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const encoder = new TextEncoder();

/**
 * X-Twilio-Signature as Twilio computes it, written independently of the proxy's module: the URL,
 * then every parameter sorted by name as name + value, HMAC-SHA1 with the auth token, base64.
 */
export async function signTwilio(authToken: string, url: string, params: Record<string, string>): Promise<string> {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, name) => acc + name + params[name], url);
  const key = await crypto.subtle.importKey("raw", encoder.encode(authToken), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  return base64(await crypto.subtle.sign("HMAC", key, encoder.encode(data)));
}

function hex32(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

function twilioError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** The subset of TaskRouter's expression language the adapter uses: `name == "value"` (or single quotes). */
function evaluate(expression: string, attributes: Record<string, unknown>): boolean | "invalid" {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*==\s*(?:"([^"]*)"|'([^']*)')\s*$/.exec(expression);
  if (!m) return "invalid";
  return attributes[m[1]!] === (m[2] ?? m[3]);
}

export class FakeTwilio {
  faults: TwilioFaults = {};
  tasks = new Map<string, FakeTask>();
  requests: FakeRequest[] = [];
  /** Answers the proxy gave to assignment callbacks, as TaskRouter understood them. */
  answers: { reservationSid: string; taskSid: string; workerSid: string; status: number; instruction: string | null }[] = [];

  constructor(
    readonly options: TwilioFakeOptions,
    private readonly random: () => number = Math.random,
  ) {}

  reset(): void {
    this.faults = {};
    this.tasks.clear();
    this.requests = [];
    this.answers = [];
  }

  private bump(task: FakeTask): void {
    task.revision += 1;
  }

  /** The Task resource as the API renders it. */
  private render(task: FakeTask) {
    const { workspaceSid, accountSid } = this.options;
    const url = `https://taskrouter.twilio.com/v1/Workspaces/${workspaceSid}/Tasks/${task.sid}`;
    return {
      account_sid: accountSid,
      age: Math.floor((Date.now() - Date.parse(task.date_created)) / 1000),
      assignment_status: task.assignment_status,
      attributes: task.attributes,
      date_created: task.date_created,
      date_updated: new Date().toISOString(),
      priority: 0,
      reason: task.reason,
      sid: task.sid,
      task_queue_sid: `WQ${"0".repeat(32)}`,
      task_channel_unique_name: "default",
      timeout: task.timeout,
      url,
      workflow_sid: task.workflow_sid,
      workspace_sid: workspaceSid,
      links: { reservations: `${url}/Reservations` },
    };
  }

  /** A TaskReservation as the API renders it. */
  private renderReservation(task: FakeTask, reservation: FakeReservation) {
    const { workspaceSid, accountSid } = this.options;
    return {
      account_sid: accountSid,
      date_created: task.date_created,
      date_updated: new Date().toISOString(),
      reservation_status: reservation.status,
      sid: reservation.sid,
      task_sid: task.sid,
      worker_name: reservation.workerSid,
      worker_sid: reservation.workerSid,
      workspace_sid: workspaceSid,
      url: `https://taskrouter.twilio.com/v1/Workspaces/${workspaceSid}/Tasks/${task.sid}/Reservations/${reservation.sid}`,
    };
  }

  /** Which principal the Basic auth names, or null (Twilio: 401, code 20003). */
  private principal(request: Request): string | null {
    const header = request.headers.get("authorization") ?? "";
    if (!header.startsWith("Basic ")) return null;
    let decoded: string;
    try {
      decoded = atob(header.slice(6));
    } catch {
      return null;
    }
    const colon = decoded.indexOf(":");
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const o = this.options;
    if (user === o.accountSid && password === o.authToken) return user;
    if (user === o.apiKeySid && password === o.apiKeySecret) return user;
    return null;
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    if (url.pathname.startsWith("/__control/")) return this.control(url.pathname, request.method, body);

    const form = request.headers.get("content-type")?.startsWith("application/x-www-form-urlencoded")
      ? Object.fromEntries(new URLSearchParams(body))
      : null;
    const entry: FakeRequest = {
      method: request.method,
      path: url.pathname,
      query: url.search,
      principal: this.principal(request),
      ifMatch: request.headers.get("if-match"),
      form,
      status: 0,
      at: Date.now(),
      answeredAt: 0,
    };
    this.requests.push(entry);
    const response = await this.answer(request, url, form, entry);
    entry.status = response.status;
    entry.answeredAt = Date.now();
    if (this.faults.delayMs) await new Promise((r) => setTimeout(r, this.faults.delayMs));
    return response;
  }

  private async answer(request: Request, url: URL, form: Record<string, string> | null, entry: FakeRequest): Promise<Response> {
    if (entry.principal === null) return twilioError(401, 20003, "Authenticate");
    const f = this.faults;
    if (f.error503 && this.random() < f.error503) return twilioError(503, 20503, "Service Unavailable");
    if (f.rateLimit && this.random() < f.rateLimit) {
      const headers: Record<string, string> = f.retryAfterSeconds === undefined ? {} : { "retry-after": String(f.retryAfterSeconds) };
      return twilioError(429, 20429, "Too Many Requests", headers);
    }
    const r = /^\/v1\/Workspaces\/([^/]+)\/Tasks\/([^/]+)\/Reservations\/([^/]+)$/.exec(url.pathname);
    if (r && r[1] === this.options.workspaceSid && request.method === "GET") {
      const owner = this.tasks.get(r[2]!);
      const reservation = owner && !owner.deleted ? owner.reservations.find((x) => x.sid === r[3]) : undefined;
      if (!owner || !reservation) return twilioError(404, 20404, `The requested resource ${url.pathname} was not found`);
      return json(200, this.renderReservation(owner, reservation));
    }
    const m = /^\/v1\/Workspaces\/([^/]+)\/Tasks(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m || m[1] !== this.options.workspaceSid) return twilioError(404, 20404, `The requested resource ${url.pathname} was not found`);
    const taskSid = m[2];

    if (taskSid === undefined && request.method === "POST") {
      if (f.rejectCreatesWith) return twilioError(f.rejectCreatesWith.status, f.rejectCreatesWith.code, "refused: upstream-internal-detail");
      const response = this.create(form ?? {});
      if (response.status === 201 && f.dropCreates && this.random() < f.dropCreates) {
        entry.dropped = true;
        throw new DroppedResponse();
      }
      return response;
    }
    if (taskSid === undefined && request.method === "GET") return this.list(url);

    const task = taskSid === undefined ? undefined : this.tasks.get(taskSid);
    if (!task || task.deleted) return twilioError(404, 20404, `The requested resource ${url.pathname} was not found`);
    if (request.method === "GET") {
      const response = json(200, this.render(task), { etag: String(task.revision) });
      // Another system (a supervisor, Flex) writes to the Task right after this read.
      if (f.concurrentUpdates) {
        f.concurrentUpdates -= 1;
        this.touch(task);
      }
      return response;
    }
    if (request.method === "POST") return this.update(task, form ?? {}, entry.ifMatch);
    return twilioError(405, 20004, "Method not allowed");
  }

  private create(form: Record<string, string>): Response {
    let attributes: unknown;
    try {
      attributes = JSON.parse(form.Attributes ?? "{}");
    } catch {
      return twilioError(400, 20001, "Attributes must be a JSON object");
    }
    if (attributes === null || typeof attributes !== "object" || Array.isArray(attributes)) {
      return twilioError(400, 20001, "Attributes must be a JSON object");
    }
    if (form.WorkflowSid !== this.options.workflowSid) return twilioError(400, 20001, "Invalid WorkflowSid");
    const timeout = form.Timeout === undefined ? 86_400 : Number(form.Timeout);
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 1_209_600) return twilioError(400, 20001, "Invalid Timeout");
    const task: FakeTask = {
      sid: `WT${hex32()}`,
      attributes: form.Attributes ?? "{}",
      assignment_status: "pending",
      revision: 0,
      workflow_sid: form.WorkflowSid,
      timeout,
      reason: null,
      date_created: new Date().toISOString(),
      reservations: [],
    };
    this.tasks.set(task.sid, task);
    return json(201, this.render(task), { etag: String(task.revision) });
  }

  private list(url: URL): Response {
    const expression = url.searchParams.get("EvaluateTaskAttributes");
    const pageSize = Number(url.searchParams.get("PageSize") ?? "50");
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) return twilioError(400, 20001, "Invalid PageSize");
    const matches: FakeTask[] = [];
    for (const task of this.tasks.values()) {
      if (task.deleted) continue;
      if (expression !== null) {
        const verdict = evaluate(expression, JSON.parse(task.attributes) as Record<string, unknown>);
        if (verdict === "invalid") return twilioError(400, 20001, "Invalid EvaluateTaskAttributes expression");
        if (!verdict) continue;
      }
      matches.push(task);
    }
    matches.sort((a, b) => a.date_created.localeCompare(b.date_created));
    const self = `https://taskrouter.twilio.com${url.pathname}${url.search}`;
    return json(200, {
      tasks: matches.slice(0, pageSize).map((t) => this.render(t)),
      meta: { first_page_url: self, key: "tasks", next_page_url: null, page: 0, page_size: pageSize, previous_page_url: null, url: self },
    });
  }

  private update(task: FakeTask, form: Record<string, string>, ifMatch: string | null): Response {
    if (ifMatch !== null && ifMatch !== String(task.revision)) return twilioError(412, 20412, "Precondition Failed");
    const to = form.AssignmentStatus as AssignmentStatus | undefined;
    if (to !== undefined) {
      const from = task.assignment_status;
      const allowed =
        (to === "canceled" && (from === "pending" || from === "reserved")) ||
        (to === "wrapping" && from === "assigned") ||
        (to === "completed" && (from === "assigned" || from === "wrapping"));
      if (!allowed) return twilioError(400, 20001, `Cannot change a Task from ${from} to ${to}`);
      task.assignment_status = to;
      if (to === "canceled") {
        for (const r of task.reservations) if (r.status === "pending") r.status = "canceled";
      }
      if (form.Reason !== undefined) task.reason = form.Reason;
    }
    if (form.Attributes !== undefined) task.attributes = form.Attributes;
    this.bump(task);
    return json(200, this.render(task), { etag: String(task.revision) });
  }

  /** Another client updates the Task's attributes: only its ETag changes. */
  private touch(task: FakeTask): void {
    const attributes = JSON.parse(task.attributes) as Record<string, unknown>;
    attributes.touchedBy = "supervisor";
    task.attributes = JSON.stringify(attributes);
    this.bump(task);
  }

  /** TaskRouter reserves a pending Task for a worker and builds the signed assignment callback. */
  private async reserve(taskSid: string, workerSid: string): Promise<CallbackDelivery | Response> {
    const task = this.tasks.get(taskSid);
    if (!task || task.deleted || task.assignment_status !== "pending") return json(409, { error: "the Task is not pending" });
    const reservation: FakeReservation = { sid: `WR${hex32()}`, workerSid, status: "pending" };
    task.reservations.push(reservation);
    task.assignment_status = "reserved";
    this.bump(task);
    const o = this.options;
    const params: Record<string, string> = {
      AccountSid: o.accountSid,
      WorkspaceSid: o.workspaceSid,
      WorkflowSid: o.workflowSid,
      TaskQueueSid: `WQ${"0".repeat(32)}`,
      WorkerSid: workerSid,
      WorkerAttributes: JSON.stringify({ agent_id: workerSid.slice(-6), languages: ["tr"] }),
      TaskSid: task.sid,
      TaskAttributes: task.attributes,
      TaskAge: String(Math.floor((Date.now() - Date.parse(task.date_created)) / 1000)),
      TaskPriority: "0",
      ReservationSid: reservation.sid,
      Timestamp: String(Math.floor(Date.now() / 1000)),
    };
    return {
      reservationSid: reservation.sid,
      url: o.assignmentCallbackUrl,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": await signTwilio(o.authToken, o.assignmentCallbackUrl, params),
        "i-twilio-idempotency-token": crypto.randomUUID(),
      },
      body: new URLSearchParams(params).toString(),
    };
  }

  /**
   * Applies the proxy's answer to an assignment callback as TaskRouter does: `accept` → the Task is
   * assigned; `reject` → the reservation is rejected and the Task goes back to pending (to be offered
   * again); anything else (an error status, no instruction) leaves the reservation pending.
   */
  private applyAnswer(reservationSid: string, status: number, contentType: string, body: string) {
    const task = [...this.tasks.values()].find((t) => t.reservations.some((r) => r.sid === reservationSid));
    const reservation = task?.reservations.find((r) => r.sid === reservationSid);
    if (!task || !reservation) return json(404, { error: "no such reservation" });
    let instruction: string | null = null;
    if (status === 200 && contentType.startsWith("application/json")) {
      try {
        const parsed = JSON.parse(body) as { instruction?: unknown };
        instruction = typeof parsed?.instruction === "string" ? parsed.instruction : null;
      } catch {
        instruction = null;
      }
    }
    this.answers.push({ reservationSid, taskSid: task.sid, workerSid: reservation.workerSid, status, instruction });
    // A reservation that was cancelled with its Task (or timed out) ignores a late answer.
    if (reservation.status === "pending" && task.assignment_status === "reserved") {
      if (instruction === "accept") {
        reservation.status = "accepted";
        task.assignment_status = "assigned";
        this.bump(task);
      } else if (instruction === "reject") {
        reservation.status = "rejected";
        task.assignment_status = "pending";
        this.bump(task);
      }
    }
    return json(200, { task: this.state().tasks.find((t) => t.sid === task.sid), reservation });
  }

  state() {
    return {
      tasks: [...this.tasks.values()].map((t) => ({ ...t, parsedAttributes: JSON.parse(t.attributes) as Record<string, string> })),
      requests: this.requests,
      answers: this.answers,
    };
  }

  private async control(path: string, method: string, body: string): Promise<Response> {
    const input = body === "" ? {} : (JSON.parse(body) as Record<string, any>);
    if (path === "/__control/state" && method === "GET") return json(200, this.state());
    if (method !== "POST") return json(404, { error: "no control route" });
    switch (path) {
      case "/__control/reset":
        this.reset();
        return json(200, {});
      case "/__control/faults":
        this.faults = input as TwilioFaults;
        return json(200, this.faults);
      case "/__control/reserve": {
        const delivery = await this.reserve(String(input.taskSid), String(input.workerSid));
        return delivery instanceof Response ? delivery : json(200, delivery);
      }
      case "/__control/answer":
        return this.applyAnswer(String(input.reservationSid), Number(input.status), String(input.contentType ?? ""), String(input.body ?? ""));
      case "/__control/timeout": {
        // The Workflow's Task Reservation Timeout passes without an answer: TaskRouter offers the Task again.
        const task = [...this.tasks.values()].find((t) => t.reservations.some((x) => x.sid === input.reservationSid));
        const reservation = task?.reservations.find((x) => x.sid === input.reservationSid);
        if (!task || !reservation || reservation.status !== "pending") return json(409, { error: "no pending reservation" });
        reservation.status = "timeout";
        if (task.assignment_status === "reserved") task.assignment_status = "pending";
        this.bump(task);
        return json(200, {});
      }
      case "/__control/touch": {
        const task = this.tasks.get(String(input.taskSid));
        if (!task) return json(404, { error: "no such task" });
        this.touch(task);
        return json(200, { revision: task.revision });
      }
      case "/__control/status": {
        // A worker moves the Task on outside the callback (Flex UI / Reservations API).
        const task = this.tasks.get(String(input.taskSid));
        if (!task) return json(404, { error: "no such task" });
        task.assignment_status = input.assignment_status as AssignmentStatus;
        this.bump(task);
        return json(200, { revision: task.revision });
      }
      case "/__control/delete": {
        // TaskRouter deletes cancelled and completed Tasks five minutes after they end.
        const task = this.tasks.get(String(input.taskSid));
        if (!task) return json(404, { error: "no such task" });
        task.deleted = true;
        return json(200, {});
      }
      default:
        return json(404, { error: "no control route" });
    }
  }
}
