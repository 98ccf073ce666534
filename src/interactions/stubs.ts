/** Durable Object addresses: both are derived from the name, so routing needs no lookup. */

export function customerStub(env: Env, customerId: string) {
  return env.CUSTOMERS.get(env.CUSTOMERS.idFromName(`customer:${customerId}`));
}

export function interactionStub(env: Env, interactionId: string) {
  return env.INTERACTIONS.get(env.INTERACTIONS.idFromName(interactionId));
}

/** The embedded simulator's one queue. */
export function simulatorStub(env: Env) {
  return env.SIMULATOR.get(env.SIMULATOR.idFromName("simulator"));
}
