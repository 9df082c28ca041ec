import { describe, expect, it } from 'vitest';
import { NODE_STYLES } from './palette.ts';

describe('map legend', () => {
  it('[X-1] a quarantined volunteer is described as caught lying, never as outvoted', () => {
    // Quarantine follows evidence against known answers; an honest volunteer outvoted by colluders is only suspected.
    const meaning = NODE_STYLES.quarantined.meaning;
    expect(meaning).not.toMatch(/outvot|quorum|vote/i);
    expect(meaning).toMatch(/lying/);
  });
});
