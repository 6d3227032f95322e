/**
 * The language of a page that shows one at a time (the officers' pages, the console):
 * Indonesian unless the person switched with `?lang=en`, which a cookie remembers for a year.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export type Lang = 'id' | 'en';

const LANG_COOKIE = 'prokus-lang';

export function langOf(event: Pick<APIGatewayProxyEventV2, 'queryStringParameters' | 'cookies'>): {
  lang: Lang;
  remember?: string;
} {
  const asked = event.queryStringParameters?.lang;
  if (asked === 'en' || asked === 'id') {
    return { lang: asked, remember: `${LANG_COOKIE}=${asked}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax` };
  }
  const kept = (event.cookies ?? []).find((c) => c.startsWith(`${LANG_COOKIE}=`))?.slice(LANG_COOKIE.length + 1);
  return { lang: kept === 'en' ? 'en' : 'id' };
}

export const otherLang = (lang: Lang): Lang => (lang === 'id' ? 'en' : 'id');
