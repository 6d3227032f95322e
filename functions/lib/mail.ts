/**
 * Email: a real MIME message (nodemailer's composer) sent through SES v2 as raw
 * content. The embedded runtime answers the same SES call by writing the message to
 * its outbox as an `.eml` file, so handlers never know where mail goes.
 */
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { ses } from './clients/ses.ts';
import { requiredEnv } from './env.ts';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Non-personal headers that let tools (and the demo) find a message's purpose. */
  headers?: Record<string, string>;
  attachments?: { filename: string; content: string | Buffer; contentType: string }[];
}

export async function buildMime(mail: Mail): Promise<Buffer> {
  const composer = new MailComposer({
    from: requiredEnv('MAIL_FROM'),
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    headers: mail.headers,
    attachments: mail.attachments,
  });
  return composer.compile().build();
}

export async function sendMail(mail: Mail): Promise<void> {
  const raw = await buildMime(mail);
  await ses.send(
    new SendEmailCommand({
      FromEmailAddress: requiredEnv('MAIL_FROM'),
      Destination: { ToAddresses: [mail.to] },
      Content: { Raw: { Data: raw } },
    }),
  );
}
