import { describe, expect, it } from 'vitest';
import { applyViewUpdate, fieldViewPort, memoryViewPort } from './viewPort.ts';

interface View {
  readonly state: string;
  readonly count: number;
  readonly inner: { readonly a: number; readonly b: number };
}
const initial: View = { state: 'off', count: 0, inner: { a: 1, b: 2 } };

describe('ViewPort', () => {
  it('an update merges shallowly: fields it names change, the rest stay (the same objects)', () => {
    const next = applyViewUpdate(initial, { count: 3 });
    expect(next).toEqual({ state: 'off', count: 3, inner: { a: 1, b: 2 } });
    expect(next.inner).toBe(initial.inner);
    expect(initial.count).toBe(0); // the previous view is never changed in place
  });

  it('a function update sees the view as it is now', () => {
    const port = memoryViewPort(initial);
    port.patch({ count: 1 });
    port.patch((prev) => ({ count: prev.count + 1 }));
    expect(port.get().count).toBe(2);
  });

  it('a memory port tells its listener each new view and the one before', () => {
    const seen: [number, number][] = [];
    const port = memoryViewPort(initial, (view, prev) => seen.push([prev.count, view.count]));
    port.patch({ count: 5 });
    port.patch({ state: 'on' });
    expect(seen).toEqual([
      [0, 5],
      [5, 5],
    ]);
  });

  it('a field port reads and patches only its field, leaving the rest of the view as it was', () => {
    const port = memoryViewPort(initial);
    const inner = fieldViewPort(port, 'inner');
    inner.patch({ b: 7 });
    inner.patch((prev) => ({ a: prev.a + 10 }));
    expect(inner.get()).toEqual({ a: 11, b: 7 });
    expect(port.get()).toEqual({ state: 'off', count: 0, inner: { a: 11, b: 7 } });
  });
});
