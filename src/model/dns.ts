/** What hbd last published in DNS for a host, and how the last attempt went. */
export interface PublishedRecords {
  host: string;
  name: string;
  A: string | null;
  AAAA: string | null;
  /** Wall times, ms. */
  lastSuccess: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
}
