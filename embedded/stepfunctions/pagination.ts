/**
 * Page sizes and `nextToken`s of ListExecutions and GetExecutionHistory, bounded as the service
 * bounds them. Its own file: the token format is opaque to the engine's API methods.
 */
import { isObject } from './asl-rewrite.ts';
import { awsError } from './task-tokens.ts';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

export function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined || maxResults === 0) return DEFAULT_PAGE;
  return Math.min(Math.max(1, Math.floor(maxResults)), MAX_PAGE);
}

/** `before`: ListExecutions goes on below this execution number; `skip`: history events already returned. */
export interface PageToken {
  before: number;
  skip: number;
}

export function encodeToken(token: Partial<PageToken>): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

export function decodeToken(text: string): PageToken {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (isObject(value)) {
      const before = typeof value.before === 'number' ? value.before : Number.POSITIVE_INFINITY;
      const skip = typeof value.skip === 'number' ? value.skip : 0;
      return { before, skip };
    }
  } catch {
    // fall through
  }
  throw awsError('InvalidToken', 'Invalid Token: the pagination token is not one this engine issued');
}
