export { HeadwaterError, ERROR_CATALOGUE } from './errors.js';
export type { ErrorCode } from './errors.js';
export type * from './config/types.js';
