/**
 * Text widths estimated without a DOM (the pages are rendered on Lambda): the advance of
 * each character of a system sans-serif in em, on the wide side so that a name measured
 * here fits the box drawn for it (Chromium's measure is checked in
 * test/browser/console-drawings.test.ts). Its own module so the charts measure their
 * labels without bundling the graph's layout library.
 */
/** Estimated advance of a character in em for a system sans-serif; wide rather than narrow. */
function charEm(c: string): number {
  if ('iljtfr.,:;!|\'" ()[]'.includes(c)) return 0.34;
  if ('mwMW'.includes(c)) return 0.9;
  if (c >= 'A' && c <= 'Z') return 0.7;
  if (c >= '0' && c <= '9') return 0.58;
  if (c.charCodeAt(0) > 0x2e7f) return 1.05; // CJK and other wide scripts
  return 0.58;
}

/** Width in px of `text` at `size` px. */
export function textWidth(text: string, size: number, bold = false): number {
  let em = 0;
  for (const c of text) em += charEm(c);
  return em * size * (bold ? 1.08 : 1);
}
