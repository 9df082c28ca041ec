/**
 * [I-1] Resume tokens are secrets from the injected source, never draws of the core's seeded
 * `Rng`: with 32 bits of state, a brute force over it would recover every volunteer's token.
 */
import { describe, expect, it } from 'vitest';
import { asPeerId } from '../../protocol/ids.ts';
import { seededRng } from '../rng.ts';
import { SECRET_HEX_DIGITS, testOnlySecrets, type NewSecret } from '../secrets.ts';
import { hello } from '../testing/fixtures.ts';
import { only, sent } from '../testing/coordinatorFrames.ts';
import { CoordinatorCore } from './coordinator.ts';
import { DEFAULT_COORDINATOR_CONFIG } from './state.ts';

/** The tokens the welcomes of volunteers v1 and v2 carry, from a core with these sources. */
function tokensOf(rngSeed: number, newSecret: NewSecret): string[] {
  const core = new CoordinatorCore({ networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG }, seededRng(rngSeed), newSecret);
  return ['v1', 'v2'].map((name) => {
    const id = asPeerId(name);
    core.connect(id, 0);
    const token = only(sent(core.handle(id, hello('volunteer'), 0)), 'welcome').token;
    if (token === undefined) throw new Error(`${name} got no token`);
    return token;
  });
}

/** A source that hands out the given secrets in order. */
const scripted = (...secrets: string[]): NewSecret => {
  let i = 0;
  return () => secrets[i++] ?? 'exhausted';
};

describe('resume tokens [I-1]', () => {
  it('[I-1] each volunteer gets exactly the secret the injected source returns, whatever the Rng', () => {
    const a = 'a'.repeat(32);
    const b = '0123456789abcdef0123456789abcdef';
    expect(tokensOf(3, scripted(a, b))).toEqual([a, b]);
    // The core's Rng (schedules and samples) plays no part in tokens.
    expect(tokensOf(4, scripted(a, b))).toEqual([a, b]);
    expect(tokensOf(3, testOnlySecrets(1))).toEqual(tokensOf(99, testOnlySecrets(1)));
    expect(tokensOf(3, testOnlySecrets(1))).not.toEqual(tokensOf(3, testOnlySecrets(2)));
  });

  it('[I-1] the test-only source is shaped like real secrets (128 bits as hex), never repeats and replays from its seed', () => {
    const draw = testOnlySecrets(7);
    const secrets = Array.from({ length: 2000 }, () => draw());
    for (const s of secrets) expect(s).toMatch(new RegExp(`^[0-9a-f]{${SECRET_HEX_DIGITS}}$`));
    expect(new Set(secrets).size).toBe(secrets.length);
    const again = testOnlySecrets(7);
    expect(Array.from({ length: 2000 }, () => again())).toEqual(secrets);
  });
});
