/**
 * Faults that test builds can switch on from the test hook (window.__quorum). Read only where
 * `import.meta.env.MODE === 'test'`, so a production build never acts on them.
 */
export const testFaults = {
  /** [S-3] While set, every coordinator store write fails as a full quota does (QuotaExceededError). */
  quotaExhausted: false,
};
