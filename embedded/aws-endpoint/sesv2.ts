/**
 * SES v2, REST JSON (`POST /v2/email/outbound-emails`): raw MIME messages land in the
 * outbox folder as `.eml` files. Its own file, one per service.
 */
import { randomUUID } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiError, validate } from './api-error.ts';

const SendEmail = z.object({
  FromEmailAddress: z.string().optional(),
  Destination: z.unknown().optional(),
  Content: z.object({
    Raw: z.object({ Data: z.string().min(1).base64() }).optional(),
    Simple: z.unknown().optional(),
    Template: z.unknown().optional(),
  }),
});

/**
 * A test's stand-in for SES refusing a message: given the raw MIME, the error to answer
 * instead of sending it, or undefined to send it. Only code in the runtime's own process
 * can set one (RuntimeOptions.sesFault); nothing a request carries can.
 */
export type SesFault = (raw: Buffer) => ApiError | undefined;

export async function sendEmail(outboxDir: string, body: unknown, fault?: SesFault): Promise<unknown> {
  const request = validate(SendEmail, body);
  const raw = request.Content.Raw;
  if (!raw) {
    throw new ApiError(
      'BadRequestException',
      'The embedded outbox accepts raw MIME messages only (Content.Raw); build the message and send it raw.',
    );
  }
  const message = Buffer.from(raw.Data, 'base64');
  const refused = fault?.(message);
  if (refused) throw refused;
  return { MessageId: await writeToOutbox(outboxDir, message) };
}

/** One raw MIME message into the outbox; returns its SES-shaped message id. */
export async function writeToOutbox(outboxDir: string, message: Buffer): Promise<string> {
  const messageId = `0100${Date.now().toString(16)}-${randomUUID()}-000000`;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(outboxDir, `${stamp}-${messageId}.eml`);
  // Written aside and renamed, so whoever watches the outbox never reads half a message.
  await writeFile(`${file}.part`, message);
  await rename(`${file}.part`, file);
  return messageId;
}
