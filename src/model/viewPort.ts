/**
 * How a host tells the UI what changed: it reads and shallow-patches the one part of the UI state
 * it owns, and nothing else. The browser's port writes the zustand store (src/stores/); tests and
 * Node use `memoryViewPort`. Hosts never import the store, so the shell stays testable without
 * React and the layering points one way (views -> stores -> host).
 */

/** A shallow patch of a view, or a function of the view as it is now that returns one. */
export type ViewUpdate<V> = Partial<V> | ((prev: V) => Partial<V>);

export interface ViewPort<V> {
  /** The view as it is now (what the page shows). */
  get(): V;
  /** Shallow-merges `update` into the view. */
  patch(update: ViewUpdate<V>): void;
}

/** Applies a ViewUpdate: the one merge rule every port follows. */
export function applyViewUpdate<V extends object>(prev: V, update: ViewUpdate<V>): V {
  const delta = typeof update === 'function' ? update(prev) : update;
  return { ...prev, ...delta };
}

/**
 * A port that keeps the view in memory, for tests and for hosts without a page; `changed` hears
 * every patch (a headless coordinator turns its log lines into JSON lines there).
 */
export function memoryViewPort<V extends object>(initial: V, changed?: (view: V, prev: V) => void): ViewPort<V> {
  let view = initial;
  return {
    get: () => view,
    patch: (update) => {
      const prev = view;
      view = applyViewUpdate(view, update);
      changed?.(view, prev);
    },
  };
}

/** A port onto one field of a view (an object itself): for a host that owns only that part. */
export function fieldViewPort<V extends object, K extends keyof V>(port: ViewPort<V>, key: K): ViewPort<V[K] & object> {
  return {
    get: () => port.get()[key] as V[K] & object,
    patch: (update) => port.patch((prev) => ({ [key]: applyViewUpdate(prev[key] as V[K] & object, update) }) as unknown as Partial<V>),
  };
}
