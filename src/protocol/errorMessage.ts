/**
 * What went wrong, as text, from anything a `catch` or a rejected promise hands over: an
 * `Error`'s message, or anything else (a string, a DOMException-like value, a number thrown by a
 * library) as `String` writes it. Here, in the lowest layer, so every layer words errors the same way.
 */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
