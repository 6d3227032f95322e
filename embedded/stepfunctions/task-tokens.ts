/**
 * Task tokens of `.waitForTaskToken` tasks. A token is an opaque random string; it
 * lives exactly as long as its task attempt. Once the attempt ends for any reason
 * (success, failure, timeout, stop, engine close) the token is dead and SendTask*
 * answers TaskTimedOut, like the service does for a closed task. A token this engine
 * never issued (for instance one from before a restart) is TaskDoesNotExist.
 */
import { randomBytes } from 'node:crypto';

export interface TokenOwner {
  succeed(output: unknown): void;
  fail(error: string, cause: string): void;
}

/** How many dead tokens are remembered to tell TaskTimedOut from TaskDoesNotExist. */
const REMEMBER_ENDED = 100_000;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{86}$/;

export function awsError(code: string, message: string): Error {
  const error = new Error(message);
  error.name = code;
  return error;
}

export class TaskTokens {
  private readonly live = new Map<string, TokenOwner>();
  private readonly ended = new Set<string>();

  issue(owner: TokenOwner): string {
    const token = randomBytes(64).toString('base64url');
    this.live.set(token, owner);
    return token;
  }

  /** The owner of a live token; throws the error SendTask* must answer otherwise. */
  owner(token: string): TokenOwner {
    if (!TOKEN_SHAPE.test(token)) throw awsError('InvalidToken', 'Invalid Token: the task token is malformed');
    const owner = this.live.get(token);
    if (owner) return owner;
    if (this.ended.has(token)) {
      throw awsError('TaskTimedOut', 'Task Timed Out: the task of this token has already ended');
    }
    throw awsError('TaskDoesNotExist', 'Task Does Not Exist: no task is waiting for this token');
  }

  end(token: string): void {
    if (!this.live.delete(token)) return;
    this.ended.add(token);
    if (this.ended.size > REMEMBER_ENDED) {
      const oldest = this.ended.values().next().value;
      if (oldest !== undefined) this.ended.delete(oldest);
    }
  }

  get size(): number {
    return this.live.size;
  }
}
