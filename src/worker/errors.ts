import type { ErrorCode } from './protocol';

/** An error the worker reports to the UI with a code and, where one is to blame, the model file. */
export class WorkerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'WorkerError';
  }
}
