/**
 * A district officer uploading a proposal file on the upload page, as the page and its
 * script do it: signed in with a password, a presigned POST asked of the pages, the file
 * sent straight to the bucket from the pages' origin, the check read (the same verdicts
 * as `prokus validate`), then submitted. The demo uploads one district's file this way.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { type Browser, inputValue, type Page, signInWithPassword } from './browser.ts';
import { PageStatusError } from './people.ts';

const Grant = z.object({ url: z.string(), fields: z.record(z.string(), z.string()), check: z.string(), checkId: z.string() });

export interface PageUpload {
  /** The check page: the rows' verdicts before the file became an upload. */
  check: Page;
  /** The upload's page after submitting (`/uploads/<uploadId>`). */
  upload: Page;
}

function expectOk(what: string, page: Page): Page {
  if (page.status !== 200) throw new PageStatusError(what, page.status, page.text);
  return page;
}

export async function uploadOnPage(
  browser: Browser,
  pagesUrl: string,
  officer: { email: string; password: string },
  opts: { file: string; district: string; programYear: number },
): Promise<PageUpload> {
  const page = expectOk('GET /upload', await signInWithPassword(browser, pagesUrl, officer, '/upload'));
  const csrf = inputValue(page.text, 'csrf') ?? '';
  const content = await readFile(opts.file);
  const fileName = basename(opts.file);
  const asked = await browser.postForm(
    `${pagesUrl}/uploads`,
    new URLSearchParams({
      csrf,
      district: opts.district,
      programYear: String(opts.programYear),
      fileName,
      size: String(content.length),
    }),
    page.url,
  );
  const grant = Grant.parse(JSON.parse(expectOk('POST /uploads', asked).text));
  const form = new FormData();
  for (const [k, v] of Object.entries(grant.fields)) form.append(k, v);
  form.append('file', new Blob([content]), fileName);
  const sent = await fetch(grant.url, { method: 'POST', body: form, headers: { origin: new URL(pagesUrl).origin } });
  if (sent.status !== 204) throw new PageStatusError('POST to the bucket', sent.status, await sent.text());
  const check = expectOk('GET check', await browser.get(`${pagesUrl}${grant.check}`));
  const submitted = await browser.postForm(
    `${pagesUrl}/uploads/${grant.checkId}/submit`,
    new URLSearchParams({ csrf, action: 'submit' }),
    check.url,
  );
  return { check, upload: expectOk('POST submit', submitted) };
}
