import type * as Yaml from 'yaml';
import { TransientPackage } from '../util/transient-require.js';

/**
 * The YAML parser. A config file is read only at start and on reload: `loadConfigFile` lets the
 * parser go after each read. `parseConfig` alone (tests, library use on text) keeps it loaded.
 */
export const yamlLib = new TransientPackage<typeof Yaml>('yaml');
