import { ioNow } from '../util/io-clock.js';
import type { BalanceName } from '../config/types.js';
import { HeadwaterError } from '../errors.js';
import { hashBalancer } from './policies/hash.js';
import { ipHash } from './policies/ip-hash.js';
import { leastConn } from './policies/least-conn.js';
import { leastTime } from './policies/least-time.js';
import { randomTwo } from './policies/random-two.js';
import { roundRobin } from './policies/round-robin.js';
import type { Balancer, BalancerDeps, BalancerFactory, BalancerOptions } from './types.js';
import { own } from '../util/own.js';

/** Every policy by its config name; a Record so adding a BalanceName without a factory fails to compile. */
const FACTORIES: Readonly<Record<BalanceName, BalancerFactory>> = {
  round_robin: roundRobin,
  least_conn: leastConn,
  ip_hash: ipHash,
  hash: hashBalancer,
  random_two: randomTwo,
  least_time: leastTime,
};

/** All policy names, for config validation, docs and the conformance suite. */
export const BALANCE_NAMES: readonly BalanceName[] = Object.freeze(Object.keys(FACTORIES) as BalanceName[]);

/** Builds the policy an upstream's `balance` names; unknown names or missing options fail as HW_ERR_CONFIG. */
export function createBalancer(name: BalanceName, deps: BalancerDeps, options: BalancerOptions): Balancer {
  const factory = own(FACTORIES, name);
  if (factory === undefined) throw new HeadwaterError('HW_ERR_CONFIG', `unknown balance policy "${String(name)}"`);
  return factory(deps, options);
}

/** Production randomness and clock; tests inject a seeded PRNG and a fixed time instead. */
export const defaultBalancerDeps: BalancerDeps = {
  random: Math.random,
  now: ioNow,
};
