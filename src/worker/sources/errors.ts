import { WorkerError } from '../errors';

/** The error every source throws when manifest.json cannot be fetched, read or parsed; `why` names the cause. */
export function manifestUnreadable(why: string): WorkerError {
  return new WorkerError('manifest', `could not read manifest.json: ${why}`, 'manifest.json');
}
