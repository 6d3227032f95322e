import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDateTime, formatRupiah, parseRupiah } from '#requests/pages/format';
import { escapeHtml, Html, html } from '#web/html';

describe('rupiah as mentors and lenders type it', () => {
  it.each([
    ['1500000', 1_500_000],
    ['1.500.000', 1_500_000],
    ['Rp 1,500,000', 1_500_000],
    ['Rp1.500.000', 1_500_000],
    ['Rp 1.500.000,-', 1_500_000],
    ['rp. 1.500.000', 1_500_000],
    ['IDR 1,500,000', 1_500_000],
    ['1.500.000,00', 1_500_000],
    ['1,500,000.00', 1_500_000],
    [' 750.000 ', 750_000],
    ['1,5 juta', 1_500_000],
    ['1.25 jt', 1_250_000],
    ['2 juta', 2_000_000],
    ['750 ribu', 750_000],
    ['750rb', 750_000],
    ['0', 0],
  ])('%s is %d rupiah', (typed, rupiah) => {
    expect(parseRupiah(typed)).toBe(rupiah);
  });

  it.each([
    '',
    'lumayan',
    '-500000',
    '1.50',
    '1.500,000',
    '1.500.000.00',
    '1,500,000,00',
    '12.34.567',
    '1e6',
    '99999999999999999999',
  ])('%j is refused rather than guessed', (typed) => {
    expect(parseRupiah(typed)).toBeUndefined();
  });

  it('reads back every amount the pages show, and every amount written the English way', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000_000 }), (n) => {
        expect(parseRupiah(formatRupiah(n))).toBe(n);
        expect(parseRupiah(n.toLocaleString('en-US'))).toBe(n);
        expect(parseRupiah(`Rp ${n.toLocaleString('id-ID')}`)).toBe(n);
      }),
    );
  });

  it('shows amounts the Indonesian way', () => {
    expect(formatRupiah(3_500_000)).toBe('Rp3.500.000');
  });
});

describe('deadlines', () => {
  it('are shown in Western Indonesia Time in both languages', () => {
    expect(formatDateTime('2020-12-14T03:00:00.000Z')).toEqual({
      id: 'Senin, 14 Desember 2020 pukul 10.00 WIB',
      en: 'Monday, 14 December 2020 at 10:00 WIB',
    });
  });
});

describe('html', () => {
  it('escapes every interpolated value, including inside attributes', () => {
    const name = `"><script>alert('x')</script>&`;
    const out = html`<input value="${name}"><p>${name}</p>`.value;
    expect(out).toBe(
      '<input value="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"><p>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p>',
    );
  });

  it('keeps HTML built by the tag, joins lists and drops false, null and undefined', () => {
    const items = ['<a>', 'b'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>${false}${null}${undefined}${0}`.value).toBe('<ul><li>&lt;a&gt;</li><li>b</li></ul>0');
  });

  it('never lets a string through as markup, whatever it contains', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const out = html`<p>${s}</p>`.value;
        expect(out.slice(3, -4)).not.toMatch(/[<>"']/);
        expect(out).toBe(`<p>${escapeHtml(s)}</p>`);
      }),
    );
  });

  it('treats only Html instances as markup', () => {
    expect(html`${new Html('<br>')}${'<br>'}`.value).toBe('<br>&lt;br&gt;');
  });
});
