/** The pages of signing in and out: where a person lands, and what went wrong with a sign-in. */
import type { Bilingual } from '#domain/errors';
import type { Session } from '#store/sessions';
import { bi, html, label } from '#web/html';
import { layout } from '#web/layout';

export const SIGNED_OUT_PATH = '/signed-out';

const signInButton = (returnTo = '/') =>
  html`<a class="button" href="/signin?returnTo=${encodeURIComponent(returnTo)}">${label({ id: 'Masuk', en: 'Sign in' })}</a>`;

/** The home page: signed in, what this person can do here; otherwise the way in. */
export function homePage(session: Session | undefined): string {
  if (!session) {
    return layout(
      { id: 'Selamat datang', en: 'Welcome' },
      html`${bi({
        id: 'Petugas kabupaten/kota masuk untuk mengunggah usulan. Pemberi persetujuan, pendamping dan lembaga pembiayaan membuka tautan di email mereka.',
        en: 'District officers sign in to upload proposals. Approvers, mentors and lenders open the link in their email.',
      })}${signInButton()}`,
    );
  }
  const { person } = session;
  return layout(
    { id: 'Anda sudah masuk', en: 'You are signed in' },
    html`${bi({
      id: `Peran: ${person.roles.join(', ') || '-'}. Wilayah: ${person.districts.join(', ') || '-'}.`,
      en: `Roles: ${person.roles.join(', ') || '-'}. Districts: ${person.districts.join(', ') || '-'}.`,
    })}${bi({
      id: 'Permintaan keputusan dibuka dari tautan di email Anda.',
      en: 'Requests for a decision open from the link in your email.',
    })}`,
    undefined,
    { email: person.email, csrf: session.csrf },
  );
}

export function signedOutPage(): string {
  return layout(
    { id: 'Anda sudah keluar', en: 'You are signed out' },
    html`${bi({ id: 'Sesi Anda sudah diakhiri di perangkat ini.', en: 'Your session on this device has ended.' })}${signInButton()}`,
  );
}

/** A sign-in that did not complete: what happened, with its code for the helpdesk, and the way to try again. */
export function signInProblemPage(code: string, text: Bilingual): string {
  return layout(
    { id: 'Tidak dapat masuk', en: 'Could not sign in' },
    html`<div class="notice bad">${bi(text)}</div><p>${label({ id: 'Kode', en: 'Code' })}: <strong>${code}</strong></p>${signInButton()}`,
  );
}
