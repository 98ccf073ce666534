/** Vite's `?raw` imports (tests read wrangler.toml as text). */
declare module "*?raw" {
  const text: string;
  export default text;
}
