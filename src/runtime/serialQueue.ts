import { InferenceError } from './engine.ts';

/**
 * One operation at a time, in call order: an onnxruntime session must not be created, run or
 * released while another call on the same engine is in flight. A failed operation does not stop
 * the queue; once `disposed()` says so, every operation still queued fails instead of running.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly disposed: () => boolean) {}

  run<T>(op: () => Promise<T>): Promise<T> {
    const guarded = async (): Promise<T> => {
      if (this.disposed()) throw new InferenceError('This inference engine has been disposed.');
      return op();
    };
    const result = this.tail.then(guarded, guarded);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
