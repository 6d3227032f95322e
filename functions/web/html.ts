/**
 * HTML built only through the `html` tag: every interpolated value is escaped unless it
 * is already `Html` made by this tag. Names, notes and reasons on these pages are typed
 * by people, so escaping must not depend on remembering to call a function.
 */
import type { Bilingual } from '#domain/errors';

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function render(part: Part): string {
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  // false/null/undefined render as nothing so `${cond && html`…`}` reads naturally.
  if (part === null || part === undefined || part === false) return '';
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Indonesian first, English under it, each marked with its language for screen readers. */
export function bi(text: Bilingual, tag: 'p' | 'span' | 'h1' | 'h2' | 'li' | 'strong' = 'p'): Html {
  const open = (lang: string, cls: string) => new Html(`<${tag} lang="${lang}"${cls ? ` class="${cls}"` : ''}>`);
  const close = new Html(`</${tag}>`);
  return html`${open('id', '')}${text.id}${close}${open('en', 'en')}${text.en}${close}`;
}

/** Inline pair for labels and table cells: "Setujui / Approve" on two lines. */
export function label(text: Bilingual): Html {
  return html`<span lang="id">${text.id}</span> <span lang="en" class="en">${text.en}</span>`;
}
