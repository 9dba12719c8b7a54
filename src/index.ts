/**
 * Headwater as a library: start the same gateway the CLI runs, from a config object written in
 * the headwater.yaml vocabulary.
 *
 *   import { createGateway } from 'headwater';
 *   const gw = await createGateway({ listeners: [...], routes: [...], upstreams: {...} });
 *   await gw.reload(nextConfig);   // validated like `headwater check`; refused configs throw
 *   await gw.close();              // drains in-flight requests
 */
export { createGateway, Gateway, ConfigError, toConfig } from './gateway.js';
export type { GatewayOptions } from './gateway.js';
export { HeadwaterError, ERROR_CATALOGUE } from './errors.js';
export type { ErrorCode } from './errors.js';
export { parseConfig, validateConfig, loadConfigFile, formatIssue } from './config/load.js';
export type { ConfigIssue, LoadResult } from './config/load.js';
export { channels } from './observability/events.js';
export type { AccessRecord, AttemptRecord, HostEvent, HostSignal, HostStatus, UpstreamEvent, RetryEvent, ReloadEvent, LifecycleEvent } from './observability/events.js';
export type * from './config/types.js';
