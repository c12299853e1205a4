import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The one error type routes throw; `onError` turns it into a JSON response. */
export class HttpError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(status: ContentfulStatusCode, message: string) {
    super(message);
    this.status = status;
  }
}
