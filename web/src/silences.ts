import { ApiError, getJson, type SilenceJson } from './api.js';
import { Observable } from './observable.js';

export interface SilenceList {
  /** Null until loaded. */
  silences: SilenceJson[] | null;
  /** This hbd keeps no silences (the endpoint is absent), or the last load failed. */
  problem: string | null;
}

export const silences = new Observable<SilenceList>({ silences: null, problem: null });

export async function refreshSilences(): Promise<void> {
  try {
    const answer = await getJson<{ silences: SilenceJson[] }>('/api/silences');
    silences.set({ silences: answer.silences, problem: null });
  } catch (error) {
    const problem =
      error instanceof ApiError && error.status === 404
        ? 'This hbd keeps no silences.'
        : `Cannot load the silences: ${(error as Error).message}`;
    silences.set({ silences: silences.value.silences, problem });
  }
}
