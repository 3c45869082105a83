/** Paged listings of the stores: a limit and an opaque cursor. */
export interface PageRequest {
  /** At most this many items (default 20, at most 100). */
  limit?: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Present when more items may follow. */
  nextCursor?: string;
}

const DEFAULT_PAGE_LIMIT = 20;
const MAX_PAGE_LIMIT = 100;

export function pageLimit(page: PageRequest | undefined): number {
  return Math.max(1, Math.min(MAX_PAGE_LIMIT, Math.floor(page?.limit ?? DEFAULT_PAGE_LIMIT)));
}
