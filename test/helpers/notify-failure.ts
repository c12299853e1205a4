import { expect } from 'vitest';
import { NotifyError } from '../../src/notify/types.js';

/** The NotifyError a send rejected with; fails the test if it resolved or threw something else. */
export async function failure(promise: Promise<unknown>): Promise<NotifyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NotifyError);
  return error as NotifyError;
}
