/** Durable Object addresses: all are derived from names, so routing needs no lookup. */

/**
 * How many objects the customer index is spread over. Changing it moves customers to other objects,
 * which forget their active interaction: change it only with no call waiting.
 */
export const CUSTOMER_INDEX_SHARDS = 64;

/** FNV-1a (32 bit) over the UTF-16 code units: cheap, stable, and spreads similar ids apart. */
export function customerIndexShard(customerId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < customerId.length; i++) {
    hash ^= customerId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % CUSTOMER_INDEX_SHARDS;
}

/** The customer-index object that holds this customer's entry. */
export function customerStub(env: Env, customerId: string) {
  return env.CUSTOMERS.get(env.CUSTOMERS.idFromName(`customers:${customerIndexShard(customerId)}`));
}

export function interactionStub(env: Env, interactionId: string) {
  return env.INTERACTIONS.get(env.INTERACTIONS.idFromName(interactionId));
}

/** The embedded simulator's one queue. */
export function simulatorStub(env: Env) {
  return env.SIMULATOR.get(env.SIMULATOR.idFromName("simulator"));
}
