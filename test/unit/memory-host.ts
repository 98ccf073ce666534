import type { Host } from "../../src/interactions/interaction-core";
import type { Interaction } from "../../src/interactions/machine";

/**
 * A host for one `InteractionCore` over memory: the stored record and alarm time in `storage`,
 * the test's own clock, adapter and settings; nothing waits on a timer. Tests that need more
 * (a metric sink, say) pass those parts too.
 */
export function memoryHost(parts: Pick<Host, "adapter" | "settings" | "now"> & Partial<Host>): {
  host: Host;
  storage: { record?: Interaction; alarmAt?: number };
} {
  const storage: { record?: Interaction; alarmAt?: number } = {};
  const host: Host = {
    sleep: () => new Promise(() => {}),
    timeout: () => new AbortController().signal,
    load: () => storage.record,
    store: (ix) => void (storage.record = ix),
    deleteAll: async () => {
      delete storage.record;
      delete storage.alarmAt;
    },
    setAlarm: (at) => void (at === undefined ? delete storage.alarmAt : (storage.alarmAt = at)),
    waitUntil: () => {},
    ...parts,
  };
  return { host, storage };
}
