/** The demo's privacy check: it finds every NIK and KK of the run's families, wherever a text hides them. */
import { describe, expect, it } from 'vitest';
import { identityScanner } from '../../cli/demo.ts';
import { generateFamilies } from '../../cli/synthetic.ts';

const families = generateFamilies(20, 7);
const [a, b] = families as [(typeof families)[0], (typeof families)[0]];
const scan = identityScanner(families);

describe('demo privacy check', () => {
  it('counts NIKs and KKs, each where it stands', () => {
    expect(scan(`name ${a.nik} and ${b.kk}; ${a.kk}`)).toEqual({ nik: 1, kk: 2 });
  });

  it('finds a number inside a longer run of digits, and in JSON or a URL', () => {
    expect(scan(`{"x":"9${a.nik}1"} https://p.example/r/${b.nik}`)).toEqual({ nik: 2, kk: 0 });
  });

  it('passes over other digits: hashes, a NIK cut short, masked NIKs, someone else’s number', () => {
    const other = '3210014508950099';
    const known = new Set(families.flatMap((f) => [f.nik, f.kk]));
    expect(known.has(other)).toBe(false);
    expect(scan(`${a.nik.slice(0, 15)} ${a.nik.slice(0, 4)}********${a.nik.slice(12)} ${other} 0123456789abcdef`)).toEqual({
      nik: 0,
      kk: 0,
    });
  });
});
