/** Reads the app's store through the test hook that test builds install on `window`. */
import type { Page } from '@playwright/test';
import type { QuorumState } from '../../src/model/state.ts';
import type { QuorumTestHook } from '../../src/testHook.ts';

export function appState(page: Page): Promise<QuorumState> {
  return page.evaluate(() => {
    const hook = (window as { __quorum?: QuorumTestHook }).__quorum;
    if (!hook) throw new Error('test hook missing: is this a test build (vite build --mode test)?');
    // A JSON copy: the store holds plain data only.
    return JSON.parse(JSON.stringify(hook.state())) as QuorumState;
  });
}
