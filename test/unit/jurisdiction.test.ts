import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { customerObject, interactionStub, personalData } from "../../src/interactions/stubs";

/**
 * DATA_JURISDICTION (design §6) reaches every Durable Object namespace that holds personal data:
 * CUSTOMER_INTERACTIONS (the customer's calls; the simulator's queue holds ids only). Local workerd refuses `namespace.jurisdiction(...)` ("Jurisdiction restrictions
 * are not implemented in workerd"), so the namespaces here are fakes: the unscoped ones refuse every
 * use, and the scoped ones record where each id was made and each stub was got.
 */

type Use = { binding: string; jurisdiction: string | undefined; call: string };

function fakeNamespace(binding: string, uses: Use[], jurisdiction?: string): DurableObjectNamespace {
  const use = (call: string) => {
    if (jurisdiction === undefined) throw new Error(`${binding}.${call} used without a jurisdiction`);
    uses.push({ binding, jurisdiction, call });
  };
  const id = (text: string) => ({ toString: () => text, equals: () => false, name: text }) as unknown as DurableObjectId;
  return {
    jurisdiction: (j: string) => {
      uses.push({ binding, jurisdiction: j, call: "jurisdiction" });
      return fakeNamespace(binding, uses, j);
    },
    idFromName: (name: string) => (use("idFromName"), id(name)),
    idFromString: (text: string) => (use("idFromString"), id(text)),
    newUniqueId: () => (use("newUniqueId"), id("unique")),
    get: (objectId: DurableObjectId) => (use("get"), { id: objectId }),
    getByName: (name: string) => (use("getByName"), { id: id(name) }),
  } as unknown as DurableObjectNamespace;
}

function envIn(jurisdiction: string | undefined, uses: Use[]): Env {
  return {
    ...env,
    DATA_JURISDICTION: jurisdiction,
    CUSTOMER_INTERACTIONS: fakeNamespace("CUSTOMER_INTERACTIONS", uses),
  } as unknown as Env;
}

const NEW_ID = `${"ab".repeat(32)}${"A".repeat(22)}`;

describe("DATA_JURISDICTION applies to every personal-data namespace", () => {
  for (const jurisdiction of ["eu", "fedramp"]) {
    it(`${jurisdiction}: the customer's object, by customerId and by interaction id, is reached in it`, async () => {
      const uses: Use[] = [];
      const e = envIn(jurisdiction, uses);
      await customerObject(e, "customer-1");
      interactionStub(e, NEW_ID);
      for (const u of uses) expect(u.jurisdiction, `${u.binding}.${u.call}`).toBe(jurisdiction);
      // Every stub was got from a scoped namespace (the unscoped one would have thrown).
      expect(uses.filter((u) => u.call === "get").map((u) => u.binding)).toEqual(["CUSTOMER_INTERACTIONS", "CUSTOMER_INTERACTIONS"]);
    });
  }

  it("personalData scopes any namespace it is given, and leaves it as it is without DATA_JURISDICTION", () => {
    const uses: Use[] = [];
    const scoped = personalData(envIn("eu", uses), fakeNamespace("X", uses));
    scoped.idFromName("n");
    expect(uses).toEqual([
      { binding: "X", jurisdiction: "eu", call: "jurisdiction" },
      { binding: "X", jurisdiction: "eu", call: "idFromName" },
    ]);
    const plain = fakeNamespace("Y", []);
    expect(personalData(envIn(undefined, []), plain)).toBe(plain);
  });

  it("where the runtime has no jurisdictions (local workerd: wrangler dev, tests), they are skipped outside production, and refused in production", () => {
    const local = { ...fakeNamespace("Z", []), jurisdiction: () => { throw new Error("Jurisdiction restrictions are not implemented in workerd."); } } as unknown as DurableObjectNamespace;
    expect(personalData(envIn("eu", []), local)).toBe(local);
    expect(() => personalData({ ...envIn("eu", []), ENVIRONMENT: "production", UPSTREAM: "simulator" } as unknown as Env, local)).toThrow(/not implemented/);
  });
});
