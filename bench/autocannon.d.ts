/** The small part of autocannon 9's API that the benchmark uses (the package ships no types). */
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  export interface RequestSetup {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }

  export interface Request extends RequestSetup {
    setupRequest?: (request: RequestSetup, context: Record<string, unknown>) => RequestSetup;
    onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void;
  }

  export interface Options {
    url: string;
    connections?: number;
    pipelining?: number;
    amount?: number;
    duration?: number;
    timeout?: number;
    requests?: Request[];
  }

  export interface Result {
    errors: number;
    timeouts: number;
    non2xx: number;
    requests: { total: number };
    duration: number;
  }

  export interface Instance extends EventEmitter {
    on(event: "response", listener: (client: object, status: number, bytes: number, latencyMs: number) => void): this;
    on(event: "done", listener: (result: Result) => void): this;
    stop(): void;
  }

  export default function autocannon(options: Options, callback?: (err: Error | null, result: Result) => void): Instance;
}
