import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { customerObject, interactionStub, legacyIndexStub, personalData } from "../../src/interactions/stubs";

/**
 * DATA_JURISDICTION (design §6) reaches every Durable Object namespace that holds personal data:
 * CUSTOMER_INTERACTIONS (the customer's calls), INTERACTIONS (legacy one-call objects) and CUSTOMERS
 * (the legacy index). Local workerd refuses `namespace.jurisdiction(...)` ("Jurisdiction restrictions
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
    INTERACTIONS: fakeNamespace("INTERACTIONS", uses),
    CUSTOMERS: fakeNamespace("CUSTOMERS", uses),
  } as unknown as Env;
}

const NEW_ID = `${"ab".repeat(32)}${"A".repeat(22)}`;
const LEGACY_ID = "0b6f1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b";

describe("DATA_JURISDICTION applies to every personal-data namespace", () => {
  for (const jurisdiction of ["eu", "fedramp"]) {
    it(`${jurisdiction}: the customer's object, an interaction's object (current and legacy ids) and the legacy index are all reached in it`, async () => {
      const uses: Use[] = [];
      const e = envIn(jurisdiction, uses);
      await customerObject(e, "customer-1");
      interactionStub(e, NEW_ID);
      interactionStub(e, LEGACY_ID);
      legacyIndexStub(e, "customer-1");
      const bindings = new Set(uses.map((u) => u.binding));
      expect(bindings).toEqual(new Set(["CUSTOMER_INTERACTIONS", "INTERACTIONS", "CUSTOMERS"]));
      for (const u of uses) expect(u.jurisdiction, `${u.binding}.${u.call}`).toBe(jurisdiction);
      // Every stub was got from a scoped namespace (the unscoped ones would have thrown).
      expect(uses.filter((u) => u.call === "get").map((u) => u.binding).sort()).toEqual(["CUSTOMERS", "CUSTOMER_INTERACTIONS", "CUSTOMER_INTERACTIONS", "INTERACTIONS"]);
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
});
