/**
 * Retries `check` every 20 ms until it passes (returns anything but false, without throwing),
 * or throws its last failure after `timeoutMs`. Tests of one part import it from here, without
 * pulling in the daemon; ./daemon.ts hands on the same function.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const result = await check();
      if (result !== false) return result;
      throw new Error('condition is still false');
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
