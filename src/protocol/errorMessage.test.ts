import { describe, expect, it } from 'vitest';
import { errorMessage } from './errorMessage.ts';

describe('errorMessage', () => {
  it("gives an Error's message (subclasses too) and anything else as text", () => {
    expect(errorMessage(new Error('disk full'))).toBe('disk full');
    expect(errorMessage(new TypeError('not a function'))).toBe('not a function');
    expect(errorMessage('plain string')).toBe('plain string');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});
