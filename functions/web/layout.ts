/**
 * The page shell every response shares, and the headers that go with it. The link in
 * the URL is the capability, so nothing may leak it (no referrer, no caching, no
 * framing), and the pages need no script at all, so the policy forbids it.
 */
import { createHash } from 'node:crypto';
import type { Bilingual } from '#domain/errors';
import { bi, Html, html, label } from './html.ts';

const STYLE = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1b1b1b;background:#f4f5f2}
main{max-width:40rem;margin:0 auto;padding:1rem;background:#fff;min-height:100vh}
header.top{max-width:40rem;margin:0 auto;padding:.75rem 1rem;background:#0b5e3c;color:#fff;font-size:.9375rem}
header.top .en{color:#d7efe3}
h1{font-size:1.375rem;line-height:1.3;margin:.5rem 0 0}
h1.en{font-size:1.0625rem;font-weight:600;margin:0 0 1rem}
h2{font-size:1.125rem;margin:1.5rem 0 0}
h2.en{font-size:1rem;font-weight:600;margin:0 0 .5rem}
p{margin:.25rem 0}
.en{color:#4a4a4a}
span.en{display:block;font-size:.9375rem}
dl{margin:0 0 1rem;border-top:1px solid #d6d6d6}
dl div{padding:.5rem 0;border-bottom:1px solid #d6d6d6}
dt{font-size:.875rem;color:#4a4a4a}
dt span.en{display:inline;font-size:inherit}
dt span.en::before{content:"/ "}
dd{margin:.125rem 0 0;font-weight:600;overflow-wrap:anywhere}
dd .en,dd span.en{font-weight:400}
ul.explain{margin:.25rem 0;padding-left:1.25rem}
ul.explain li{margin:.25rem 0}
.ok{color:#0b5e3c}
.warn{color:#8a4b00}
form{margin-top:1.5rem;padding-top:.5rem;border-top:3px solid #0b5e3c}
fieldset{border:0;margin:1rem 0;padding:0}
legend{font-weight:700;padding:0;margin-bottom:.25rem}
.field{margin:1rem 0}
.field>label,.field>.label{display:block;font-weight:700;margin-bottom:.25rem}
.choice{display:flex;gap:.75rem;align-items:flex-start;padding:.625rem .75rem;margin:.375rem 0;border:2px solid #b9b9b9;border-radius:.5rem;min-height:2.75rem}
.choice input{width:1.375rem;height:1.375rem;margin:.125rem 0 0;flex:none}
.choice label{flex:1}
input[type=text],input[type=password],select,textarea{width:100%;font:inherit;padding:.625rem;border:2px solid #6b6b6b;border-radius:.375rem;background:#fff;color:inherit;min-height:2.75rem}
textarea{min-height:6rem}
input:focus,select:focus,textarea:focus,button:focus,a:focus{outline:3px solid #f0b400;outline-offset:2px}
.hint{font-size:.9375rem;color:#4a4a4a;margin:.125rem 0 .375rem}
dd .hint,dd .hint span{font-weight:400}
strong[lang]{display:block}
.error{color:#a0001c;font-weight:700;margin:.25rem 0}
.error .en{color:#a0001c;font-weight:400}
.invalid input[type=text],.invalid select,.invalid textarea,.invalid .choice{border-color:#a0001c}
.invalid{border-left:4px solid #a0001c;padding-left:.75rem}
.summary{border:3px solid #a0001c;padding:.75rem 1rem;margin:1rem 0}
.summary a{color:#a0001c}
button{display:block;width:100%;font:inherit;font-weight:700;padding:.875rem 1rem;margin:1.5rem 0 .5rem;border:0;border-radius:.5rem;background:#0b5e3c;color:#fff;min-height:3rem;cursor:pointer}
button .en{color:#d7efe3;font-weight:400}
.notice{padding:.75rem 1rem;border-left:6px solid #0b5e3c;background:#eef7f2;margin:1rem 0}
.notice.bad{border-color:#a0001c;background:#fbeef0}
footer{margin-top:2rem;padding-top:.75rem;border-top:1px solid #d6d6d6;font-size:.875rem;color:#4a4a4a}
footer .en{color:#4a4a4a}
.who{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;justify-content:space-between;margin-top:.375rem;font-size:.875rem}
.who form{margin:0;padding:0;border:0}
.who button{display:inline;width:auto;margin:0;padding:.375rem .75rem;min-height:2.25rem;font-size:.875rem;background:#fff;color:#0b5e3c}
.who button .en{color:#0b5e3c}
a.button{display:block;text-align:center;font-weight:700;padding:.875rem 1rem;margin:1.5rem 0 .5rem;border-radius:.5rem;background:#0b5e3c;color:#fff;text-decoration:none}
a.button .en{color:#d7efe3;font-weight:400}
.lang{text-align:right;font-size:.875rem;margin:0}
.lang a{color:#fff}
.drop{border:2px dashed #6b6b6b;border-radius:.5rem;padding:1rem;margin:1rem 0;text-align:center}
.drop.over{border-color:#0b5e3c;background:#eef7f2}
.drop input[type=file]{display:block;width:100%;margin:.5rem 0;font:inherit}
progress{display:block;width:100%;height:1.25rem;margin:.75rem 0;accent-color:#0b5e3c}
button:disabled{opacity:.6;cursor:progress}
[hidden]{display:none!important}
button.secondary{background:#fff;color:#0b5e3c;border:2px solid #0b5e3c}
ul.uploads{list-style:none;margin:0;padding:0}
ul.uploads>li{border-bottom:1px solid #d6d6d6;padding:.75rem 0}
ul.uploads .file{font-weight:700;overflow-wrap:anywhere}
.meta{font-size:.875rem;color:#4a4a4a}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.875rem;font-weight:700;background:#e6e6e6}
.badge.done{background:#dff0e7;color:#0b5e3c}
.badge.refused,.badge.overdue{background:#fbeef0;color:#a0001c}
.badge.running{background:#fff3d6;color:#6b4500}
ol.verdicts{list-style:none;margin:.5rem 0;padding:0}
ol.verdicts>li{border-left:4px solid #a0001c;padding:.5rem .75rem;margin:.5rem 0;background:#fbfbfb}
ol.verdicts>li.warning{border-color:#8a4b00}
ol.verdicts .finding{margin:.375rem 0}
code{font-size:.875rem;background:#f0f0f0;padding:0 .25rem;border-radius:.25rem;overflow-wrap:anywhere}
table.stages{border-collapse:collapse;width:100%;margin:.5rem 0}
table.stages td,table.stages th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #d6d6d6}
p.meta span.en{font-size:inherit}
form.action{border-top:0;margin-top:.5rem;padding-top:0}
form.action button{margin:.75rem 0 .25rem}
table.stages td.n{text-align:right;font-variant-numeric:tabular-nums}
body.wide main,body.wide header.top{max-width:80rem}
nav.console{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:.25rem 0 .5rem;padding-bottom:.5rem;border-bottom:1px solid #d6d6d6}
nav.console a{color:#0b5e3c;font-weight:700;padding:.375rem 0;text-decoration:none}
nav.console a[aria-current=page]{border-bottom:3px solid #0b5e3c}
form.search{display:flex;gap:.5rem;margin:.5rem 0 1rem;padding:0;border:0}
form.search input{flex:1;min-width:0}
form.search button,form.filters button,form.inline button{width:auto;margin:0;padding:.5rem 1rem;min-height:2.75rem}
form.filters{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:flex-end;border-top:0;margin-top:.5rem}
form.filters .field{margin:.5rem 0;min-width:10rem;flex:1}
form.inline{display:inline;margin:0;padding:0;border:0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.scroll{overflow-x:auto;margin:.5rem 0;-webkit-overflow-scrolling:touch}
table.data{border-collapse:collapse;width:100%;font-size:.9375rem}
table.data th,table.data td{text-align:left;padding:.375rem .5rem;border-bottom:1px solid #d6d6d6;vertical-align:top}
table.data th{background:#f4f5f2;font-size:.875rem;white-space:nowrap}
table.data td.n,table.data th.n{text-align:right;font-variant-numeric:tabular-nums}
table.data code{overflow-wrap:normal;white-space:nowrap}
.badge.closed{background:#ececec;color:#3b3b3b}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.75rem;margin:.75rem 0}
.cards div{border:1px solid #d6d6d6;border-radius:.5rem;padding:.5rem .75rem}
.cards div>span.meta,.cards div>code{display:block}
.cards .n{display:block;font-size:1.5rem;font-weight:700;font-variant-numeric:tabular-nums}
ol.timeline{list-style:none;margin:.5rem 0;padding:0;border-left:3px solid #0b5e3c}
ol.timeline>li{position:relative;margin:0 0 1rem;padding:.125rem 0 0 1rem}
ol.timeline>li::before{content:"";position:absolute;left:-.5625rem;top:.5rem;width:.75rem;height:.75rem;border-radius:50%;background:#0b5e3c}
ol.timeline>li.bad::before{background:#a0001c}
ol.timeline>li.wait::before{background:#f0b400}
ol.timeline h3{font-size:1rem;margin:0}
figure{margin:.75rem 0}
figure svg{display:block;max-width:100%;height:auto}
details{margin:.25rem 0}
summary{cursor:pointer}
pre{font-size:.8125rem;background:#f7f7f7;padding:.5rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere;max-height:24rem}
.pager{display:flex;gap:1rem;margin:1rem 0}
`;

/** The one style block of a page: the shell's rules and the page's own (the console's drawings). */
const styleOf = (page: PageExtras) => (page.style ? `${STYLE}${page.style}` : STYLE);

// A hash rather than 'unsafe-inline': the one style block is allowed, injected ones are not.
const hashes = new Map<string, string>();
function styleHash(style: string): string {
  let hash = hashes.get(style);
  if (!hash) {
    hash = createHash('sha256').update(style).digest('base64');
    hashes.set(style, hash);
  }
  return hash;
}

/**
 * The policy of a page. A page with a script (the upload page's progress bar) names it by
 * its hash, served from this site (/assets/), and the one other origin it may send to
 * (the bucket, for the presigned POST); every other page runs no script at all.
 */
export function contentSecurityPolicy(page: PageExtras = {}): string {
  return [
    "default-src 'self'",
    `style-src 'sha256-${styleHash(styleOf(page))}'`,
    page.script ? `script-src 'sha256-${page.script.sha256}'` : "script-src 'none'",
    ...(page.connectTo ? [`connect-src 'self' ${page.connectTo}`] : []),
    "img-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

export function securityHeaders(page: PageExtras = {}): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(page),
    'x-frame-options': 'DENY',
    'referrer-policy': referrerPolicy(page),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-robots-tag': 'noindex, nofollow',
  };
}

export const SECURITY_HEADERS: Record<string, string> = securityHeaders();

/**
 * `no-referrer` keeps a link's capability from leaking. But browsers then send
 * `Origin: null` on a form POST (Fetch: a POST's origin is serialized as null under
 * no-referrer), and the anti-forgery check refuses a POST whose origin is not ours; a page
 * whose forms must pass it and whose URLs carry no capability says `same-origin`: no
 * referrer leaves the site, and its POSTs name their origin.
 */
function referrerPolicy(page: PageExtras): string {
  return page.postsForms ? 'same-origin' : 'no-referrer';
}

/** A self-hosted script: its path under /assets/ and the hash its page's policy allows (SRI and CSP alike). */
export interface PageScript {
  path: string;
  sha256: string;
}

/** What a page needs beyond the shell: one language instead of both, a script and where it may connect. */
export interface PageExtras {
  /** One language only (the officer's pages have a language switch); both, Indonesian first, when absent. */
  lang?: 'id' | 'en';
  script?: PageScript;
  connectTo?: string;
  /** The page's forms POST to this site and its URL is no capability (see referrerPolicy). */
  postsForms?: boolean;
  /** The link to the same page in the other language. */
  switchTo?: { href: string; lang: 'id' | 'en'; label: string };
  /** A wide page (the console's tables and drawings); the others keep a reading width. */
  wide?: boolean;
  /** Rules the page adds to the shell's stylesheet (a constant: it is hashed into the policy). */
  style?: string;
}

const PROGRAM: Bilingual = {
  id: 'Prokus — Program Kewirausahaan Sosial, Kementerian Sosial RI',
  en: 'Prokus — Social Entrepreneurship Program, Ministry of Social Affairs',
};

/** Who is signed in, shown on every page they see, with the way out. */
export interface Viewer {
  email: string;
  csrf: string;
}

function viewerBar(viewer: Viewer, say: (t: Bilingual) => Html): Html {
  return html`<div class="who"><span>${say({ id: `Masuk sebagai ${viewer.email}`, en: `Signed in as ${viewer.email}` })}</span>
<form method="post" action="/signout"><input type="hidden" name="csrf" value="${viewer.csrf}"><button type="submit">${say({ id: 'Keluar', en: 'Sign out' })}</button></form></div>`;
}

export function layout(title: Bilingual, body: Html, footer?: Html, viewer?: Viewer, page: PageExtras = {}): string {
  const lang = page.lang;
  const say = (t: Bilingual) => (lang ? html`${t[lang]}` : label(t));
  const heading = lang ? html`<h1>${title[lang]}</h1>` : bi(title, 'h1');
  const program = lang ? html`<p>${PROGRAM[lang]}</p>` : bi(PROGRAM);
  const titleText = lang ? title[lang] : `${title.id} / ${title.en}`;
  return `<!doctype html>${html`<html lang="${lang ?? 'id'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="${referrerPolicy(page)}">
<meta name="robots" content="noindex, nofollow">
<title>${titleText}</title>
<style>${new Html(styleOf(page))}</style>
${page.script && html`<script src="${page.script.path}" integrity="sha256-${page.script.sha256}" defer></script>`}
</head>
<body${page.wide ? html` class="wide"` : ''}>
<header class="top">${page.switchTo && html`<p class="lang"><a href="${page.switchTo.href}" lang="${page.switchTo.lang}">${page.switchTo.label}</a></p>`}${program}${viewer && viewerBar(viewer, say)}</header>
<main>
${heading}
${body}
${footer && html`<footer>${footer}</footer>`}
</main>
</body>
</html>`}`;
}
