/**
 * Form fields that keep what the person typed and show each field's problem next to
 * it, linked for screen readers (aria-describedby) and from a summary at the top, so a
 * 400 answer reads as "fix these" rather than "start again".
 */
import type { Bilingual } from '#domain/errors';
import { bi, type Html, html, label } from '#web/html';
import { type FormValues, many, one, type PageContext } from './context.ts';

export interface FormState {
  values: FormValues;
  errors: Record<string, Bilingual>;
}

export const EMPTY_FORM: FormState = { values: {}, errors: {} };

/** One kind of request as a page: what it shows, its form, and how the form becomes a decision. */
export interface KindPage {
  title: Bilingual;
  /** Heads the list of problems when a submitted form comes back. */
  formInvalid: Bilingual;
  facts(ctx: PageContext): Html;
  form(ctx: PageContext, state: FormState): Html;
  /** The form as the decision input `decide()` validates; kept lenient so the domain names the problems. */
  toDecision(values: FormValues): unknown;
  /** Rules that need the case (a ceiling, a field required by another field's choice). */
  check(ctx: PageContext, candidate: unknown): Record<string, Bilingual>;
  /** What was recorded, from the stored decision (parsed again: it is `unknown` on the request). */
  recorded(ctx: PageContext, decision: unknown): Html;
}

export interface Option {
  value: string;
  label: Bilingual;
}

const fieldId = (name: string) => `f-${name}`;
const errorId = (name: string) => `e-${name}`;

function problem(state: FormState, name: string): Html | false {
  const e = state.errors[name];
  return !!e && html`<p class="error" id="${errorId(name)}">${label(e)}</p>`;
}

function describedBy(state: FormState, name: string, hint: boolean): Html {
  const ids = [hint ? `h-${name}` : '', state.errors[name] ? errorId(name) : ''].filter(Boolean).join(' ');
  return html`${ids && html` aria-describedby="${ids}"`}${state.errors[name] && html` aria-invalid="true"`}`;
}

function hintText(name: string, hint: Bilingual | undefined): Html | false {
  return !!hint && html`<p class="hint" id="h-${name}">${label(hint)}</p>`;
}

const cls = (state: FormState, name: string) => (state.errors[name] ? 'field invalid' : 'field');

export function errorSummary(state: FormState, message: Bilingual): Html | false {
  const entries = Object.entries(state.errors);
  return (
    entries.length > 0 &&
    html`<div class="summary" role="alert">
${bi(message, 'strong')}
<ul>${entries.map(([name, e]) => html`<li><a href="#${fieldId(name)}">${label(e)}</a></li>`)}</ul>
</div>`
  );
}

export function choices(
  type: 'radio' | 'checkbox',
  name: string,
  legend: Bilingual,
  options: Option[],
  state: FormState,
  opts: { required?: boolean; hint?: Bilingual } = {},
): Html {
  const chosen = type === 'radio' ? [one(state.values, name)] : many(state.values, name);
  return html`<fieldset class="${cls(state, name)}"${describedBy(state, name, !!opts.hint)}>
<legend>${label(legend)}</legend>
${hintText(name, opts.hint)}${problem(state, name)}
${options.map((o, i) => {
  // The first option carries the field id so the error summary can link to the group.
  const id = i === 0 ? fieldId(name) : `${fieldId(name)}-${o.value}`;
  return html`<div class="choice"><input type="${type}" id="${id}" name="${name}" value="${o.value}"${chosen.includes(o.value) && html` checked`}${type === 'radio' && opts.required && html` required`}><label for="${id}">${label(o.label)}</label></div>`;
})}
</fieldset>`;
}

export function select(name: string, text: Bilingual, options: Option[], state: FormState, hint?: Bilingual): Html {
  const chosen = one(state.values, name);
  return html`<div class="${cls(state, name)}">
<label for="${fieldId(name)}">${label(text)}</label>
${hintText(name, hint)}${problem(state, name)}
<select id="${fieldId(name)}" name="${name}"${describedBy(state, name, !!hint)}>
<option value="">— pilih / choose —</option>
${options.map((o) => html`<option value="${o.value}"${chosen === o.value && html` selected`}>${o.label.id} / ${o.label.en}</option>`)}
</select>
</div>`;
}

/**
 * What a text field shows again after a failed POST: the person's text, so they need
 * not type it twice, but only while it fits the field. Longer text is never sent back:
 * the field's message already says its limit, and a page must not mirror a megabyte
 * someone posted at it.
 */
const SHORT_TEXT = 200;
function echoed(state: FormState, name: string, maxlength: number | undefined): string {
  const v = one(state.values, name);
  return v.length <= (maxlength ?? SHORT_TEXT) ? v : '';
}

export function textInput(
  name: string,
  text: Bilingual,
  state: FormState,
  opts: { hint?: Bilingual; inputmode?: 'numeric' | 'text'; maxlength?: number } = {},
): Html {
  return html`<div class="${cls(state, name)}">
<label for="${fieldId(name)}">${label(text)}</label>
${hintText(name, opts.hint)}${problem(state, name)}
<input type="text" id="${fieldId(name)}" name="${name}" value="${echoed(state, name, opts.maxlength)}" autocomplete="off"${opts.inputmode && html` inputmode="${opts.inputmode}"`}${opts.maxlength && html` maxlength="${opts.maxlength}"`}${describedBy(state, name, !!opts.hint)}>
</div>`;
}

export function textArea(name: string, text: Bilingual, state: FormState, opts: { hint?: Bilingual; maxlength: number }): Html {
  return html`<div class="${cls(state, name)}">
<label for="${fieldId(name)}">${label(text)}</label>
${hintText(name, opts.hint)}${problem(state, name)}
<textarea id="${fieldId(name)}" name="${name}" rows="4" maxlength="${opts.maxlength}"${describedBy(state, name, !!opts.hint)}>${echoed(state, name, opts.maxlength)}</textarea>
</div>`;
}

export function submit(text: Bilingual): Html {
  return html`<button type="submit">${label(text)}</button>`;
}

/** A definition list row: a bilingual term and its value (text or already built HTML). */
export function fact(term: Bilingual, value: Html | string | number): Html {
  return html`<div><dt>${label(term)}</dt><dd>${value}</dd></div>`;
}
