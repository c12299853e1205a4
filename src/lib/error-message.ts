/** What went wrong, as one line for a log or a user: an Error's message, or whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
