/**
 * The upload page's one script, served from this site (/assets/) and allowed by its hash
 * on that page only. It asks the pages for a presigned POST, sends the file straight to
 * the bucket with a progress bar (XMLHttpRequest: fetch reports no upload progress), then
 * opens the check page. Plain ES2017, no libraries, about 3 KB: it must load on a phone
 * over a slow connection. Without it the page says the upload needs JavaScript.
 *
 * The anti-forgery token goes with the request for the presigned POST as the form field
 * `csrf`, exactly as the page's forms send it.
 */
import { createHash } from 'node:crypto';
import type { PageScript } from '#web/layout';

const SOURCE = `(function () {
  'use strict';
  var form = document.getElementById('upload-form');
  if (!form || !window.FormData || !window.XMLHttpRequest || !window.fetch) return;
  var input = form.querySelector('input[type=file]');
  var drop = document.getElementById('drop');
  var chosen = document.getElementById('chosen');
  var bar = document.getElementById('upload-progress');
  var status = document.getElementById('upload-status');
  var button = form.querySelector('button[type=submit]');
  var max = Number(form.getAttribute('data-max-bytes'));
  var text = function (name) { return form.getAttribute('data-msg-' + name) || name; };
  form.removeAttribute('hidden');
  var nojs = document.getElementById('nojs');
  if (nojs) nojs.setAttribute('hidden', '');

  function say(message, bad) {
    status.textContent = message;
    status.className = bad ? 'notice bad' : 'notice';
    status.removeAttribute('hidden');
  }
  function mib(n) { return n < 1048576 ? Math.max(1, Math.round(n / 1024)) + ' KB' : (n / 1048576).toFixed(1) + ' MiB'; }
  function showChosen() {
    var file = input.files && input.files[0];
    chosen.textContent = file ? file.name + ' (' + mib(file.size) + ')' : '';
  }
  function fail(message) {
    button.disabled = false;
    bar.setAttribute('hidden', '');
    say(message, true);
  }

  input.addEventListener('change', showChosen);
  if (drop) {
    ['dragenter', 'dragover'].forEach(function (type) {
      drop.addEventListener(type, function (e) { e.preventDefault(); drop.classList.add('over'); });
    });
    ['dragleave', 'drop'].forEach(function (type) {
      drop.addEventListener(type, function () { drop.classList.remove('over'); });
    });
    drop.addEventListener('drop', function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length > 0) { input.files = e.dataTransfer.files; showChosen(); }
    });
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var file = input.files && input.files[0];
    if (!file) return fail(text('pick'));
    if (file.size === 0) return fail(text('empty'));
    if (file.size > max) return fail(text('too-large'));
    button.disabled = true;
    say(text('preparing'), false);
    var body = new URLSearchParams();
    body.set('csrf', form.elements.csrf.value);
    body.set('district', form.elements.district.value);
    body.set('programYear', form.elements.programYear.value);
    body.set('fileName', file.name);
    body.set('size', String(file.size));
    fetch('/uploads', { method: 'POST', body: body, credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        if (!res.ok || !res.j.url) return fail(res.j.error ? res.j.error.message + ' (' + res.j.error.code + ')' : text('failed'));
        send(res.j, file);
      })
      .catch(function () { fail(text('offline')); });
  });

  function send(grant, file) {
    var data = new FormData();
    Object.keys(grant.fields).forEach(function (k) { data.append(k, grant.fields[k]); });
    data.append('file', file);
    var xhr = new XMLHttpRequest();
    xhr.open('POST', grant.url);
    bar.value = 0;
    bar.max = file.size;
    bar.removeAttribute('hidden');
    xhr.upload.addEventListener('progress', function (ev) {
      if (!ev.lengthComputable) return;
      bar.max = ev.total;
      bar.value = ev.loaded;
      say(text('sending') + ' ' + Math.floor((100 * ev.loaded) / ev.total) + '%', false);
    });
    xhr.onload = function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        say(text('checking'), false);
        window.location.assign(grant.check);
        return;
      }
      var code = /<Code>([^<]+)<\\/Code>/.exec(xhr.responseText || '');
      fail(text('refused') + (code ? ' (' + code[1] + ')' : ''));
    };
    xhr.onerror = function () { fail(text('offline')); };
    xhr.send(data);
  }
})();
`;

const FILE = `upload-${createHash('sha256').update(SOURCE).digest('hex').slice(0, 12)}.js`;

/** Named by its hash, so browsers may keep it as long as they like and a new version is a new name. */
export const UPLOAD_SCRIPT: PageScript & { file: string; source: string } = {
  file: FILE,
  path: `/assets/${FILE}`,
  sha256: createHash('sha256').update(SOURCE).digest('base64'),
  source: SOURCE,
};
