/** The Page Visibility API, and nothing else: tells whether the tab is hidden, now and on every change. */
export function watchVisibility(onChange: (hidden: boolean) => void): () => void {
  if (typeof document === 'undefined') {
    onChange(false);
    return () => {};
  }
  const report = (): void => onChange(document.visibilityState === 'hidden');
  document.addEventListener('visibilitychange', report);
  report();
  return () => document.removeEventListener('visibilitychange', report);
}
