/** What a Task's `Attributes` carry (src/upstreams/twilio/adapter.ts `taskAttributes`). */
import { describe, expect, it } from "vitest";
import { taskAttributes } from "../../src/upstreams/twilio/adapter";

const request = {
  interactionId: "6f1c2d3e-4b5a-4c6d-8e7f-901234567890",
  customerId: "123456",
  attributes: { TRX: "Diyalog", customerId: "spoofed", interactionId: "spoofed" },
  identityNumber: "12345678901",
  mayExist: false,
};

describe("Task attributes", () => {
  it("attachedData, then identityNumber under its configured name, then the proxy's own keys, which win", () => {
    expect(taskAttributes(request, "identityNumber")).toEqual({
      TRX: "Diyalog",
      identityNumber: "12345678901",
      customerId: "123456",
      interactionId: request.interactionId,
    });
    expect(taskAttributes(request, "tckn")).toMatchObject({ tckn: "12345678901" });
    // Even a misconfigured name cannot replace the interactionId the lookup and callback rely on.
    expect(taskAttributes(request, "interactionId").interactionId).toBe(request.interactionId);
  });

  it("IDENTITY_NUMBER_ATTRIBUTE empty: the national id is not sent", () => {
    const attributes = taskAttributes(request, "");
    expect(Object.values(attributes)).not.toContain("12345678901");
    expect(Object.keys(attributes).sort()).toEqual(["TRX", "customerId", "interactionId"]);
  });

  it("__proto__ in attachedData stays a plain key, and the input is not modified", () => {
    const attributes = Object.assign(Object.create(null) as Record<string, string>, { ["__proto__"]: "x", a: "b" });
    const out = taskAttributes({ ...request, attributes }, "identityNumber");
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out, "__proto__")).toBe(true);
    expect(JSON.parse(JSON.stringify(out)).__proto__).toBe("x");
    expect(Object.keys(attributes)).toEqual(["__proto__", "a"]);
  });
});
