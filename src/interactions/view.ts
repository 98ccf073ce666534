import { upstreamId, type Interaction } from "./machine";

/** Shows only the last two characters of personal data: `12345678901` → `*********01`. */
export function mask(value: string): string {
  const visible = value.length > 4 ? 2 : 0;
  return "*".repeat(value.length - visible) + value.slice(value.length - visible);
}

/** The read view of an interaction (GET): personal data masked, upstream bodies never included. */
export function interactionView(ix: Interaction) {
  const upstream: Record<string, unknown> = { adapter: ix.upstream.adapter };
  // The call's own copy; duplicates an upstream made are cancelled and not shown.
  const id = upstreamId(ix);
  if (id !== undefined) upstream.id = id;
  if (ix.upstream.status !== undefined) upstream.status = ix.upstream.status;
  if (ix.upstream.agentId !== undefined) upstream.agentId = ix.upstream.agentId;
  if (ix.upstream.cleanup !== undefined) upstream.cleanup = ix.upstream.cleanup;
  return {
    interactionId: ix.interactionId,
    state: ix.state,
    upstream,
    attributes: ix.attributes,
    customerId: mask(ix.customerId),
    identityNumber: ix.identityNumber === undefined ? null : mask(ix.identityNumber),
    createdAt: new Date(ix.createdAt).toISOString(),
    timeline: ix.timeline,
  };
}
