import { describe, expect, it } from "vitest";
import { LIMITS, normaliseCreate, type CreateInteraction } from "../../src/diyalog/create-request";
import { ApiError } from "../../src/http/envelope";

/** Parses the body the way the worker does (JSON text → JSON.parse) and normalises it. */
function create(body: unknown): CreateInteraction {
  return normaliseCreate(JSON.parse(JSON.stringify(body)));
}

/** Same, from raw JSON text (for keys such as `__proto__` that an object literal cannot carry as data). */
function createRaw(json: string): CreateInteraction {
  return normaliseCreate(JSON.parse(json));
}

/** The ApiError a call throws; fails the test when it does not throw one. */
function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected an ApiError, nothing was thrown");
}

/** Asserts a 400 validation_failed whose message starts with `field: `. */
function expectInvalid(fn: () => unknown, field: string, message?: string | RegExp): ApiError {
  const err = errorOf(fn);
  expect(err.status).toBe(400);
  expect(err.code).toBe("validation_failed");
  expect(err.message.startsWith(`${field}: `), `"${err.message}" should start with "${field}: "`).toBe(true);
  if (typeof message === "string") expect(err.message).toBe(`${field}: ${message}`);
  else if (message) expect(err.message).toMatch(message);
  return err;
}

const ok = (attachedData: unknown) => create({ customerId: "c1", attachedData }).attributes;
const okRaw = (attachedDataJson: string) => createRaw(`{"customerId":"c1","attachedData":${attachedDataJson}}`).attributes;

describe("normaliseCreate: the three shapes Diyalog has sent", () => {
  it("shape 1: an array of objects is merged in order", () => {
    const result = createRaw(
      '{"customerId":"123456","attachedData":[{"TRX":"Diyalog"},{"PrimaryProjectManagerId":"123456"},{"SecondaryProjectManagerId":"654321"}]}',
    );
    expect(result).toStrictEqual({
      customerId: "123456",
      attributes: { TRX: "Diyalog", PrimaryProjectManagerId: "123456", SecondaryProjectManagerId: "654321" },
    });
    expect(Object.keys(result.attributes)).toEqual(["TRX", "PrimaryProjectManagerId", "SecondaryProjectManagerId"]);
    expect("identityNumber" in result).toBe(false);
  });

  it("shape 2: the array plus identityNumber", () => {
    const result = createRaw(
      '{"customerId":"123456","attachedData":[{"TRX":"Diyalog"},{"PrimaryProjectManagerId":"123456"},{"SecondaryProjectManagerId":"654321"}],"identityNumber":"12345678901"}',
    );
    expect(result).toStrictEqual({
      customerId: "123456",
      attributes: { TRX: "Diyalog", PrimaryProjectManagerId: "123456", SecondaryProjectManagerId: "654321" },
      identityNumber: "12345678901",
    });
  });

  it("shape 3: a flat object", () => {
    const result = createRaw('{"customerId":"123456","attachedData":{"TRX":"Diyalog","PrimaryProjectManagerId":"123456"}}');
    expect(result).toStrictEqual({
      customerId: "123456",
      attributes: { TRX: "Diyalog", PrimaryProjectManagerId: "123456" },
    });
  });

  it("a later key wins when array items repeat a key", () => {
    expect(ok([{ a: "1", b: "x" }, { a: "2" }, { c: "y" }, { a: "3" }])).toStrictEqual({ a: "3", b: "x", c: "y" });
  });

  it("an object carrying several keys inside the array is merged whole", () => {
    expect(ok([{ a: "1", b: "2" }, { c: "3", a: "4" }])).toStrictEqual({ a: "4", b: "2", c: "3" });
  });

  it("an empty array and an empty object give no attributes", () => {
    expect(ok([])).toStrictEqual({});
    expect(ok({})).toStrictEqual({});
    expect(ok([{}, {}])).toStrictEqual({});
  });

  it("absent attachedData gives {}", () => {
    expect(create({ customerId: "c1" })).toStrictEqual({ customerId: "c1", attributes: {} });
  });

  it("null attachedData gives {}", () => {
    expect(createRaw('{"customerId":"c1","attachedData":null}')).toStrictEqual({ customerId: "c1", attributes: {} });
  });

  it("returns an ordinary object (structured-clone safe), not a null-prototype one", () => {
    const attributes = ok({ a: "1" });
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(structuredClone(attributes)).toStrictEqual({ a: "1" });
  });
});

describe("normaliseCreate: the body", () => {
  it.each([
    ["null", "null"],
    ["an array", '[{"customerId":"c1"}]'],
    ["a string", '"c1"'],
    ["a number", "42"],
    ["a boolean", "true"],
  ])("refuses %s as the body", (_name, json) => {
    expectInvalid(() => createRaw(json), "body", "must be a JSON object");
  });

  it("refuses undefined (no body at all)", () => {
    expectInvalid(() => normaliseCreate(undefined), "body", "must be a JSON object");
  });

  it("ignores unknown top-level fields", () => {
    const result = createRaw(
      '{"customerId":"c1","attachedData":{"a":"1"},"channel":"video","nested":{"x":[1,2]},"priority":3,"flag":null}',
    );
    expect(result).toStrictEqual({ customerId: "c1", attributes: { a: "1" } });
  });

  it("ignores a top-level __proto__ field without polluting anything", () => {
    const result = createRaw('{"customerId":"c1","__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}');
    expect(result).toStrictEqual({ customerId: "c1", attributes: {} });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
  });
});

describe("normaliseCreate: customerId", () => {
  it("is required", () => {
    expectInvalid(() => create({}), "customerId", "is required and must be a string or a non-negative integer");
    expectInvalid(() => create({ attachedData: { a: "1" } }), "customerId");
  });

  it("refuses null", () => {
    expectInvalid(() => createRaw('{"customerId":null}'), "customerId");
  });

  it.each([
    ["a boolean", true],
    ["an object", { id: "1" }],
    ["an array", ["1"]],
  ])("refuses %s", (_name, customerId) => {
    expectInvalid(() => create({ customerId }), "customerId", "is required and must be a string or a non-negative integer");
  });

  it("keeps a string as it is", () => {
    expect(create({ customerId: "123456" }).customerId).toBe("123456");
    expect(create({ customerId: "a-b_c.d@example" }).customerId).toBe("a-b_c.d@example");
  });

  it.each([
    [0, "0"],
    [7, "7"],
    [123456, "123456"],
    [Number.MAX_SAFE_INTEGER, "9007199254740991"],
  ])("turns the non-negative safe integer %s into %j", (customerId, expected) => {
    expect(create({ customerId }).customerId).toBe(expected);
  });

  it("turns JSON numbers written with an exponent or a zero fraction into their decimal string", () => {
    expect(createRaw('{"customerId":1e3}').customerId).toBe("1000");
    expect(createRaw('{"customerId":5.0}').customerId).toBe("5");
    expect(createRaw('{"customerId":-0}').customerId).toBe("0");
  });

  it.each([
    ["negative", "-1"],
    ["negative large", "-123456"],
    ["fractional", "1.5"],
    ["small fraction", "0.0001"],
    ["unsafe (2^53)", "9007199254740992"],
    ["unsafe (beyond 2^53)", "12345678901234567890"],
    ["huge", "1e300"],
  ])("refuses a %s number", (_name, literal) => {
    expectInvalid(() => createRaw(`{"customerId":${literal}}`), "customerId", "must be a string or a non-negative integer");
  });

  it("is trimmed", () => {
    expect(create({ customerId: "  123456  " }).customerId).toBe("123456");
    expect(create({ customerId: "\t 42\n" }).customerId).toBe("42");
    expect(create({ customerId: " a b " }).customerId).toBe("a b");
  });

  it("refuses an empty or blank string", () => {
    expectInvalid(() => create({ customerId: "" }), "customerId", "must not be empty");
    expectInvalid(() => create({ customerId: "    " }), "customerId", "must not be empty");
    expectInvalid(() => create({ customerId: "\t\n" }), "customerId", "must not be empty");
  });

  it("accepts 1 and 128 characters, refuses 129", () => {
    expect(create({ customerId: "x" }).customerId).toBe("x");
    const max = "x".repeat(LIMITS.customerIdLength);
    expect(max).toHaveLength(128);
    expect(create({ customerId: max }).customerId).toBe(max);
    expectInvalid(() => create({ customerId: "x".repeat(129) }), "customerId", "must be at most 128 characters");
  });

  it("counts the length after trimming", () => {
    const max = "y".repeat(128);
    expect(create({ customerId: `   ${max}   ` }).customerId).toBe(max);
  });

  it.each([
    ["NUL", "12\u00003"],
    ["newline", "12\n3"],
    ["carriage return", "12\r3"],
    ["tab inside", "12\t3"],
    ["escape", "12\u001b3"],
    ["unit separator", "12\u001f3"],
    ["DEL", "12\u007f3"],
    ["C1 control", "12\u00853"],
  ])("refuses a control character (%s)", (_name, customerId) => {
    expectInvalid(() => create({ customerId }), "customerId", "must not contain control characters");
  });

  it("accepts non-ASCII printable characters", () => {
    expect(create({ customerId: "müşteri-İĞ" }).customerId).toBe("müşteri-İĞ");
  });
});

describe("normaliseCreate: identityNumber", () => {
  it("is kept when present", () => {
    expect(create({ customerId: "c1", identityNumber: "12345678901" })).toStrictEqual({
      customerId: "c1",
      attributes: {},
      identityNumber: "12345678901",
    });
  });

  it("is absent when null or missing", () => {
    const fromNull = createRaw('{"customerId":"c1","identityNumber":null}');
    expect(fromNull).toStrictEqual({ customerId: "c1", attributes: {} });
    expect("identityNumber" in fromNull).toBe(false);
    const missing = create({ customerId: "c1" });
    expect("identityNumber" in missing).toBe(false);
  });

  it.each([
    ["a number", "12345678901"],
    ["a boolean", "true"],
    ["an object", '{"n":"1"}'],
    ["an array", '["1"]'],
  ])("refuses %s", (_name, literal) => {
    expectInvalid(() => createRaw(`{"customerId":"c1","identityNumber":${literal}}`), "identityNumber", "must be a string");
  });

  it("accepts 64 characters and refuses 65", () => {
    const max = "1".repeat(LIMITS.identityNumberLength);
    expect(create({ customerId: "c1", identityNumber: max }).identityNumber).toBe(max);
    expectInvalid(() => create({ customerId: "c1", identityNumber: "1".repeat(65) }), "identityNumber", "must be at most 64 characters");
  });

  it.each([
    ["newline", "123\n456"],
    ["tab", "123\t456"],
    ["DEL", "123\u007f456"],
    ["C1 NEL", "123\u0085456"],
  ])("refuses a control character (%s)", (_name, identityNumber) => {
    expectInvalid(() => create({ customerId: "c1", identityNumber }), "identityNumber", "must not contain control characters");
  });
});

describe("normaliseCreate: attachedData values", () => {
  it("turns numbers and booleans into strings", () => {
    expect(okRaw('{"n":42,"f":1.5,"neg":-3,"zero":0,"exp":1e21,"t":true,"b":false}')).toStrictEqual({
      n: "42",
      f: "1.5",
      neg: "-3",
      zero: "0",
      exp: "1e+21",
      t: "true",
      b: "false",
    });
  });

  it("turns numbers and booleans into strings in the array shape too", () => {
    expect(okRaw('[{"n":7},{"t":true}]')).toStrictEqual({ n: "7", t: "true" });
  });

  it("keeps strings as they are, including empty strings", () => {
    expect(ok({ s: "text", e: "", sp: "  padded  " })).toStrictEqual({ s: "text", e: "", sp: "  padded  " });
  });

  it("drops null values", () => {
    const attributes = okRaw('{"a":null,"b":"1"}');
    expect(attributes).toStrictEqual({ b: "1" });
    expect("a" in attributes).toBe(false);
  });

  it("drops null values in array items", () => {
    expect(okRaw('[{"a":null},{"b":"1","c":null}]')).toStrictEqual({ b: "1" });
  });

  it("a later null drops the earlier value of the same key; a later value after a null wins again", () => {
    expect(okRaw('[{"a":"1","b":"2"},{"a":null}]')).toStrictEqual({ b: "2" });
    expect(okRaw('[{"a":null},{"a":"3"}]')).toStrictEqual({ a: "3" });
  });

  it("refuses a nested object value in the flat shape, naming the key", () => {
    expectInvalid(() => ok({ a: "1", nested: { b: "1" } }), "attachedData.nested", /nested values are not allowed/);
  });

  it("refuses a nested array value in the flat shape, naming the key", () => {
    expectInvalid(() => ok({ list: ["1"] }), "attachedData.list", /nested values are not allowed/);
  });

  it("refuses a nested object value in an array item, naming the item and key", () => {
    expectInvalid(() => ok([{ a: "1" }, { nested: { b: "1" } }]), "attachedData[1].nested", /nested values are not allowed/);
  });

  it("refuses a nested array value in an array item", () => {
    expectInvalid(() => ok([{ list: [1, 2] }]), "attachedData[0].list", /nested values are not allowed/);
  });

  it("refuses an empty nested object or array too", () => {
    expectInvalid(() => ok({ e: {} }), "attachedData.e");
    expectInvalid(() => ok([{ e: [] }]), "attachedData[0].e");
  });
});

describe("normaliseCreate: attachedData shapes that are refused", () => {
  it.each([
    ["a string", '"TRX=Diyalog"'],
    ["a number", "5"],
    ["a boolean", "true"],
  ])("refuses %s", (_name, literal) => {
    expectInvalid(
      () => createRaw(`{"customerId":"c1","attachedData":${literal}}`),
      "attachedData",
      "must be an array of objects or an object",
    );
  });

  it.each([
    ["a string", '[{"a":"1"},"TRX"]', "attachedData[1]"],
    ["a number", '[{"a":"1"},{"b":"2"},3]', "attachedData[2]"],
    ["null", "[null]", "attachedData[0]"],
    ["a boolean", "[true]", "attachedData[0]"],
    ["an array", '[[{"a":"1"}]]', "attachedData[0]"],
  ])("refuses an array item that is %s", (_name, literal, field) => {
    expectInvalid(() => createRaw(`{"customerId":"c1","attachedData":${literal}}`), field, "must be an object");
  });
});

describe("normaliseCreate: attachedData limits, counted after the merge", () => {
  const keys = (n: number, prefix = "k") => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, "v"]));

  it("accepts 50 keys and refuses 51 (flat object)", () => {
    expect(Object.keys(ok(keys(50)))).toHaveLength(50);
    expectInvalid(() => ok(keys(51)), "attachedData", "must have at most 50 keys");
  });

  it("accepts 50 keys spread over array items and refuses 51", () => {
    expect(Object.keys(ok([keys(25, "a"), keys(25, "b")]))).toHaveLength(50);
    expectInvalid(() => ok([keys(25, "a"), keys(26, "b")]), "attachedData", "must have at most 50 keys");
  });

  it("counts repeated keys once: 60 entries over 40 distinct keys are fine", () => {
    const result = ok([keys(30), keys(30), keys(10, "x")]);
    expect(Object.keys(result)).toHaveLength(40);
  });

  it("many items that repeat one key are a single key", () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ same: String(i) }));
    expect(ok(items)).toStrictEqual({ same: "99" });
  });

  it("counts keys after dropping nulls: 51 keys of which one is null are fine", () => {
    const body = { ...keys(50), dropped: null };
    expect(Object.keys(ok(body))).toHaveLength(50);
  });

  it("accepts a 64-character key and refuses 65", () => {
    const k64 = "k".repeat(LIMITS.keyLength);
    expect(ok({ [k64]: "v" })).toStrictEqual({ [k64]: "v" });
    expectInvalid(() => ok({ ["k".repeat(65)]: "v" }), "attachedData", "keys must be 1-64 characters");
    expectInvalid(() => ok([{ a: "1" }, { ["k".repeat(65)]: "v" }]), "attachedData", "keys must be 1-64 characters");
  });

  it("refuses an empty key", () => {
    expectInvalid(() => ok({ "": "v" }), "attachedData", "keys must be 1-64 characters");
  });

  it("accepts a 1024-character value and refuses 1025, naming the key", () => {
    const v1024 = "v".repeat(LIMITS.valueLength);
    expect(ok({ note: v1024 })).toStrictEqual({ note: v1024 });
    expectInvalid(() => ok({ note: "v".repeat(1025) }), "attachedData.note", "must be at most 1024 characters");
  });

  it("checks the value that won the merge: a long value overwritten by a short one is fine", () => {
    expect(ok([{ note: "v".repeat(2000) }, { note: "short" }])).toStrictEqual({ note: "short" });
    expectInvalid(() => ok([{ note: "short" }, { note: "v".repeat(1025) }]), "attachedData.note");
  });
});

describe("normaliseCreate: control characters in attachedData", () => {
  it("allows a tab in keys and values", () => {
    expect(ok({ "a\tb": "x\ty" })).toStrictEqual({ "a\tb": "x\ty" });
    expect(ok([{ "\t": "\t" }])).toStrictEqual({ "\t": "\t" });
  });

  it.each([
    ["NUL", "\u0000"],
    ["U+0008", "\u0008"],
    ["newline", "\n"],
    ["carriage return", "\r"],
    ["vertical tab", "\u000b"],
    ["escape", "\u001b"],
    ["U+001F", "\u001f"],
    ["DEL", "\u007f"],
    ["C1 U+0080", "\u0080"],
    ["C1 NEL", "\u0085"],
    ["C1 U+009F", "\u009f"],
  ])("refuses %s in a key", (_name, ch) => {
    expectInvalid(() => ok({ [`a${ch}b`]: "v" }), "attachedData", "keys must not contain control characters");
    expectInvalid(() => ok([{ [`a${ch}b`]: "v" }]), "attachedData", "keys must not contain control characters");
  });

  it.each([
    ["NUL", "\u0000"],
    ["U+0008", "\u0008"],
    ["newline", "\n"],
    ["carriage return", "\r"],
    ["vertical tab", "\u000b"],
    ["escape", "\u001b"],
    ["U+001F", "\u001f"],
    ["DEL", "\u007f"],
    ["C1 U+0080", "\u0080"],
    ["C1 NEL", "\u0085"],
    ["C1 U+009F", "\u009f"],
  ])("refuses %s in a value, naming the key", (_name, ch) => {
    expectInvalid(() => ok({ note: `a${ch}b` }), "attachedData.note", "must not contain control characters");
    expectInvalid(() => ok([{ note: `a${ch}b` }]), "attachedData.note", "must not contain control characters");
  });

  it("accepts what is not a control character: U+00A0 and above, line and paragraph separators, emoji", () => {
    const text = "a\u00a0b é ş \u2028\u2029 😀 \ufffd";
    expect(ok({ [text]: text })).toStrictEqual({ [text]: text });
  });
});

describe("normaliseCreate: keys such as __proto__ are plain data", () => {
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();

  function expectPrototypeUntouched() {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    const probe: Record<string, unknown> = {};
    expect(probe.polluted).toBeUndefined();
    expect(probe.isAdmin).toBeUndefined();
    expect(typeof probe.constructor).toBe("function");
  }

  it("keeps __proto__ and constructor as own keys of a flat object", () => {
    const attributes = okRaw('{"__proto__":"x","constructor":"y","prototype":"z","toString":"t"}');
    expect(Object.keys(attributes)).toEqual(["__proto__", "constructor", "prototype", "toString"]);
    expect(Object.prototype.hasOwnProperty.call(attributes, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(attributes, "__proto__")).toStrictEqual({
      value: "x",
      writable: true,
      enumerable: true,
      configurable: true,
    });
    expect(Object.getOwnPropertyDescriptor(attributes, "constructor")?.value).toBe("y");
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(attributes))).toEqual(JSON.parse('{"__proto__":"x","constructor":"y","prototype":"z","toString":"t"}'));
    expectPrototypeUntouched();
  });

  it("keeps __proto__ and constructor as own keys when merged from array items", () => {
    const attributes = okRaw('[{"__proto__":"first"},{"constructor":"c"},{"__proto__":"second"}]');
    expect(Object.keys(attributes)).toEqual(["__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(attributes, "__proto__")?.value).toBe("second");
    expect(Object.getOwnPropertyDescriptor(attributes, "constructor")?.value).toBe("c");
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expectPrototypeUntouched();
  });

  it("turns numeric and boolean __proto__ values into strings", () => {
    const attributes = okRaw('{"__proto__":1,"constructor":true}');
    expect(Object.getOwnPropertyDescriptor(attributes, "__proto__")?.value).toBe("1");
    expect(Object.getOwnPropertyDescriptor(attributes, "constructor")?.value).toBe("true");
    expectPrototypeUntouched();
  });

  it("drops a null __proto__ like any other null", () => {
    const attributes = okRaw('[{"__proto__":"x"},{"__proto__":null}]');
    expect(Object.keys(attributes)).toEqual([]);
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expectPrototypeUntouched();
  });

  it("refuses an object under __proto__ as a nested value, and pollutes nothing", () => {
    expectInvalid(() => okRaw('{"__proto__":{"polluted":"yes"}}'), "attachedData.__proto__", /nested values are not allowed/);
    expectInvalid(() => okRaw('[{"__proto__":{"isAdmin":true}}]'), "attachedData[0].__proto__", /nested values are not allowed/);
    expectInvalid(() => okRaw('{"constructor":{"prototype":{"polluted":"yes"}}}'), "attachedData.constructor");
    expectPrototypeUntouched();
  });

  it("an attribute named __proto__ cannot change the result's prototype, even the value 'null'", () => {
    const attributes = okRaw('{"__proto__":"null","hasOwnProperty":"h"}');
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(attributes, "hasOwnProperty")?.value).toBe("h");
    expect(Object.keys(attributes)).toEqual(["__proto__", "hasOwnProperty"]);
    expectPrototypeUntouched();
  });

  it("survives structured clone with __proto__ still an own key", () => {
    const attributes = okRaw('{"__proto__":"x","a":"1"}');
    const copy = structuredClone(attributes);
    expect(Object.getOwnPropertyDescriptor(copy, "__proto__")?.value).toBe("x");
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });
});

describe("normaliseCreate: errors", () => {
  it("are ApiErrors with status 400 and code validation_failed naming the field in result", () => {
    const err = expectInvalid(() => create({ customerId: "" }), "customerId");
    expect(err).toBeInstanceOf(Error);
    expect(err.result).toStrictEqual({ field: "customerId" });
  });

  it("name the array item for a refused item", () => {
    const err = expectInvalid(() => okRaw('[{"a":"1"},"x"]'), "attachedData[1]", "must be an object");
    expect(err.result).toStrictEqual({ field: "attachedData[1]" });
  });
});

describe("normaliseCreate: text must be well-formed Unicode (issue 12, defect 3)", () => {
  const NOT_WELL_FORMED = "must be well-formed Unicode (no lone surrogates)";
  // The JSON carries the escape; JSON.parse turns it into a lone UTF-16 surrogate.
  it.each([
    ["a lone high surrogate at the end", "X\\ud83d"],
    ["a lone low surrogate", "X\\ude00Y"],
    ["a low surrogate before a high one", "\\ude00\\ud83d"],
  ])("refuses %s in customerId", (_name, escaped) => {
    expectInvalid(() => createRaw(`{"customerId":"${escaped}"}`), "customerId", NOT_WELL_FORMED);
  });

  it("X\\ud83d and X\\ufffd are not the same customer: the first is refused, the second accepted", () => {
    expectInvalid(() => createRaw('{"customerId":"X\\ud83d"}'), "customerId", NOT_WELL_FORMED);
    expect(createRaw('{"customerId":"X\\ufffd"}').customerId).toBe("X\ufffd");
  });

  it("accepts a surrogate pair (an emoji) written as escapes", () => {
    expect(createRaw('{"customerId":"X\\ud83d\\ude00"}').customerId).toBe("X😀");
  });

  it("refuses a lone surrogate in identityNumber", () => {
    expectInvalid(() => createRaw('{"customerId":"c1","identityNumber":"1234\\udc00"}'), "identityNumber", NOT_WELL_FORMED);
  });

  it("refuses a lone surrogate in an attachedData key, without repeating the key", () => {
    // The exact message proves the key is not in it.
    expectInvalid(() => okRaw('{"k\\ud800":"v"}'), "attachedData", "keys must be well-formed Unicode (no lone surrogates)");
    expectInvalid(() => okRaw('[{"ok":"1"},{"\\udfff":"v"}]'), "attachedData", "keys must be well-formed Unicode (no lone surrogates)");
  });

  it("refuses a lone surrogate in an attachedData value, naming the key", () => {
    expectInvalid(() => okRaw('{"note":"a\\ud83db"}'), "attachedData.note", NOT_WELL_FORMED);
    expectInvalid(() => okRaw('[{"note":"fine"},{"note":"\\udc00"}]'), "attachedData.note", NOT_WELL_FORMED);
  });

  it("a nested value under a key with a lone surrogate is named without it", () => {
    const err = expectInvalid(() => okRaw('{"k\\ud800":{"x":1}}'), "attachedData.k\ufffd");
    expect(err.message.isWellFormed()).toBe(true);
  });
});
