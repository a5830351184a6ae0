/**
 * The origins besides its own that this build may load model folders from: TOKLIP_MODEL_ORIGINS at build time,
 * parsed and put into the CSP by vite.config.ts, which also compiles the list in here (`define`). Unit tests run
 * without that define: no extra origins.
 */
declare const __TOKLIP_MODEL_ORIGINS__: readonly string[] | undefined;

export const MODEL_ORIGINS: readonly string[] =
  typeof __TOKLIP_MODEL_ORIGINS__ === 'undefined' ? [] : __TOKLIP_MODEL_ORIGINS__;
