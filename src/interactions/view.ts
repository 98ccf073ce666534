import { upstreamId, withoutPersonalData, type Interaction } from "./machine";
import { mask, minimisedAttributes } from "../security/personal-data";

/**
 * The read view of an interaction (GET): customerId and identityNumber masked, attribute values only
 * for `visibleAttributes` (VISIBLE_ATTRIBUTES), upstream bodies never included.
 */
export function interactionView(ix: Interaction, visibleAttributes: readonly string[]) {
  // Erased: nothing personal is shown, even while the fields are still held for a create that may
  // have to be sent again (see `minimised`).
  if (ix.erased) ix = withoutPersonalData(ix);
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
    attributes: minimisedAttributes(ix.attributes, visibleAttributes),
    // null once erased (design §6)
    customerId: ix.customerId === "" ? null : mask(ix.customerId),
    identityNumber: ix.identityNumber === undefined ? (ix.identityMask ?? null) : mask(ix.identityNumber),
    createdAt: new Date(ix.createdAt).toISOString(),
    timeline: ix.timeline,
  };
}
