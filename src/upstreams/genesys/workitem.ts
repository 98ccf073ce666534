import type { DispatchRequest } from "../adapter";
import type { GenesysConfig } from "./config";

/**
 * The Task Management workitem an interaction becomes (`WorkitemCreate` of
 * `POST /api/v2/taskmanagement/workitems`), and what a workitem's `assignmentState` means for us.
 */

/** The queue for this interaction: the first GENESYS_QUEUE_ROUTES entry its attributes match, else GENESYS_QUEUE_ID. */
export function queueFor(attributes: Record<string, string>, config: Pick<GenesysConfig, "queueRoutes" | "queueId">): string {
  const route = config.queueRoutes.find((r) => Object.hasOwn(attributes, r.key) && attributes[r.key] === r.value);
  return route?.queueId ?? config.queueId;
}

/** A custom field name the worktype schema can hold: letters, digits and `_`, starting with a letter. */
export function fieldNameFor(attribute: string): string {
  const base = attribute.replace(/[^A-Za-z0-9_]/g, "_");
  return `${/^[A-Za-z]/.test(base) ? base : `a_${base}`}_text`;
}

/**
 * `customFields` from the attributes: GENESYS_FIELD_MAP names the field (or drops it with null),
 * otherwise `<attribute>_text`. Every field must exist in the worktype's schema, or Genesys refuses
 * the whole workitem.
 */
export function customFields(attributes: Record<string, string>, fieldMap: Record<string, string | null>): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  for (const [attribute, value] of Object.entries(attributes)) {
    const mapped = Object.hasOwn(fieldMap, attribute) ? fieldMap[attribute]! : fieldNameFor(attribute);
    if (mapped !== null) fields[mapped] = value;
  }
  return fields;
}

/**
 * What an upstream receives as the call's data: the attributes, `customerId`, and identityNumber
 * under IDENTITY_NUMBER_ATTRIBUTE (unless that is empty). Later entries win: the request's own
 * customerId and identityNumber over same-named attachedData keys. Null-prototype object.
 */
export function forwardedData(request: DispatchRequest, identityNumberAttribute: string): Record<string, string> {
  const data: Record<string, string> = Object.assign(Object.create(null), request.attributes, { customerId: request.customerId });
  if (request.identityNumber !== undefined && identityNumberAttribute !== "") data[identityNumberAttribute] = request.identityNumber;
  return data;
}

/**
 * The create body. The workitem's `name` is visible in every Genesys list, so it carries no personal
 * data; `externalTag` = interactionId is what finds the workitem again after a lost answer.
 */
export function workitemCreate(
  request: DispatchRequest,
  config: GenesysConfig,
  identityNumberAttribute: string,
  preferredAgentIds: string[],
): Record<string, unknown> {
  const fields = customFields(forwardedData(request, identityNumberAttribute), config.fieldMap);
  return {
    name: `Diyalog call ${request.interactionId.slice(0, 8)}`,
    typeId: config.worktypeId,
    queueId: queueFor(request.attributes, config),
    externalTag: request.interactionId,
    ...(Object.keys(fields).length > 0 ? { customFields: { ...fields } } : {}),
    ...(preferredAgentIds.length > 0 ? { preferredAgentIds } : {}),
  };
}

export interface Workitem {
  id?: unknown;
  externalTag?: unknown;
  assignmentState?: unknown;
  statusCategory?: unknown;
  assignee?: { id?: unknown } | null;
}

/**
 * Genesys' "Workitem routing states" (Resource Center): Idle is "the workitem's initial state",
 * ACD Started "queued for assignment", Alerting "being delivered to the agent", ACD Cancelled "its
 * routing was cancelled", Terminated "requires no further action", ACD Expired "reached the time
 * limit waiting in the queue".
 */

/** An agent has it (offered, talking, on hold, or done with it): too late to take it back. */
const WITH_AGENT = new Set(["Alerting", "Connected", "Parked", "Held", "Disconnected"]);
/** Out of routing for good: nobody will be offered it any more. Only these confirm a cancel. */
const ENDED = new Set(["AcdCancelled", "Terminated", "AcdExpired"]);

/**
 * `not_routed`: Idle, routing has not started *yet* (it may start any moment), so it is no
 * confirmation of anything. `routing`: everything else (AcdStarted, AlertTimeout, Declined, states
 * this code does not know).
 */
export type Assignment = { kind: "with_agent"; agentId: string | undefined } | { kind: "ended" } | { kind: "not_routed" } | { kind: "routing" };

/** What a workitem's `assignmentState` (and `statusCategory`) says about an agent having it. */
export function assignmentOf(workitem: Workitem | null): Assignment {
  const state = workitem?.assignmentState;
  if (typeof state === "string" && WITH_AGENT.has(state)) return { kind: "with_agent", agentId: assigneeOf(workitem) };
  if ((typeof state === "string" && ENDED.has(state)) || workitem?.statusCategory === "Closed") return { kind: "ended" };
  return state === "Idle" ? { kind: "not_routed" } : { kind: "routing" };
}

/** The assignee's user id, when the workitem names one. */
export function assigneeOf(workitem: Workitem | null): string | undefined {
  const id = workitem?.assignee?.id;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/** Whether the workitem names an assignee at all (even one whose id is unreadable). */
export function hasAssignee(workitem: Workitem | null): boolean {
  return workitem?.assignee !== undefined && workitem.assignee !== null;
}
