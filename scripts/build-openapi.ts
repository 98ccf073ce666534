import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderOpenApiDocument } from "./lib/openapi";

/** Writes public/openapi.json from the worker's zod schemas (commit the result; a test checks it is current). */
const target = fileURLToPath(new URL("../public/openapi.json", import.meta.url));
writeFileSync(target, renderOpenApiDocument());
console.log(`wrote ${target}`);
