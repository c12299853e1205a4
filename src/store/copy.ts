import type { StoreSpec } from './drivers.js';
import { storeDriver } from './drivers.js';
import type { StoreContext } from './store.js';
import { StoreNotEmptyError, type StoreTransfer, type TransferCounts } from './transfer.js';

/** A copy that was not made, and why, in words for the operator. Nothing was written. */
export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefusedError';
  }
}

export interface CopyResult {
  from: string;
  to: string;
  copied: TransferCounts;
}

/**
 * Copies everything one store holds into another (`hbd store copy`), in one transaction of the
 * target: hosts with their timing and last signed `ts`, events, notification triggers, the
 * outbox in every state, what was announced, silences, sessions, pings, DNS state. Refuses a
 * target that holds anything unless `force` (which replaces it), and a store hbd runs on.
 */
export async function copyStore(
  from: StoreSpec,
  to: StoreSpec,
  options: { force: boolean; context: Omit<StoreContext, 'pickfile'> },
): Promise<CopyResult> {
  const context: StoreContext = { ...options.context, pickfile: '' };
  const source = await openTransfer(from, context);
  try {
    const target = await openTransfer(to, context);
    try {
      if (source.location === target.location) {
        throw new CopyRefusedError(`${source.location} is both the source and the target`);
      }
      for (const [role, store] of [
        ['source', source],
        ['target', target],
      ] as const) {
        const running = await store.inUse();
        if (running) throw new CopyRefusedError(`the ${role} ${store.location}: ${running}`);
      }
      let copied: TransferCounts;
      try {
        copied = await target.fill(source, { replace: options.force });
      } catch (error) {
        if (!(error instanceof StoreNotEmptyError)) throw error;
        throw new CopyRefusedError(
          `the target ${error.message}: a copy goes into an empty store; --force replaces what it holds`,
        );
      }
      return { from: source.location, to: target.location, copied };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

async function openTransfer(spec: StoreSpec, context: StoreContext): Promise<StoreTransfer> {
  const driver = storeDriver(spec.driver);
  if (!driver?.transfer) throw new CopyRefusedError(`the ${spec.driver} store cannot be copied`);
  const parsed = driver.schema.safeParse(spec.options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'store'}: ${issue.message}`,
    );
    throw new CopyRefusedError(`the ${driver.name} store: ${problems.join('; ')}`);
  }
  return driver.transfer(parsed.data, context);
}
