import type * as Yaml from 'yaml';
import { TransientPackage } from '../util/transient-require.js';

/**
 * The YAML parser. A serving process reads its config only at start and on reload: it lets the
 * parser go in between (`yamlLib.release()`).
 */
export const yamlLib = new TransientPackage<typeof Yaml>('yaml');
