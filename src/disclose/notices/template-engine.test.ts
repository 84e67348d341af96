import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTemplate, renderString, renderTemplate, TemplateError } from './template-engine.js';

describe('template engine', () => {
  it('prints variables, HTML-escaped in html mode and as they are in text mode', () => {
    const data = { a: { b: '<script>alert("x")</script> & \'q\'' }, n: 3 };
    assert.equal(renderString('t', 'v={{ a.b }} n={{n}}', data, 'html'), 'v=&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; n=3');
    assert.equal(renderString('t', 'v={{ a.b }}', data, 'text'), 'v=<script>alert("x")</script> & \'q\'');
  });

  it('has no way to print raw HTML: the Mustache raw form {{{x}}} is refused', () => {
    assert.throws(() => renderString('t', '{{{x}}}', { x: '<b>' }, 'html'), /is not a variable path/);
  });

  it('loops, with loop metadata and an else part for empty lists', () => {
    const t = compileTemplate('t', '{{#each xs as x}}{{@number}}:{{x.v}}{{#unless @last}},{{/unless}}{{else}}none{{/each}}');
    assert.equal(renderTemplate(t, { xs: [{ v: 'a' }, { v: 'b' }, { v: 'c' }] }, 'text'), '1:a,2:b,3:c');
    assert.equal(renderTemplate(t, { xs: [] }, 'text'), 'none');
    assert.equal(renderTemplate(t, { xs: null }, 'text'), 'none');
  });

  it('conditions: truthiness of strings, numbers, lists, missing paths', () => {
    const t = compileTemplate('t', '{{#if v}}yes{{else}}no{{/if}}');
    for (const [v, want] of [['x', 'yes'], ['', 'no'], [0, 'no'], [2, 'yes'], [[], 'no'], [[1], 'yes'], [null, 'no'], [{}, 'yes'], [false, 'no']] as const) {
      assert.equal(renderTemplate(t, { v }, 'text'), want, JSON.stringify(v));
    }
    assert.equal(renderTemplate(t, {}, 'text'), 'no', 'a missing path is falsy in a condition');
    assert.equal(renderString('t', '{{#if a.b.c}}y{{else}}n{{/if}}', { a: null }, 'text'), 'n');
  });

  it('block tags alone on their line take the line with them', () => {
    const src = 'start\n{{#if on}}\n  - item\n{{/if}}\n{{! a comment }}\n{{#each xs as x}}\n- {{x}}\n{{/each}}\nend\n';
    assert.equal(renderString('t', src, { on: true, xs: ['a', 'b'] }, 'text'), 'start\n  - item\n- a\n- b\nend\n');
    assert.equal(renderString('t', src, { on: false, xs: [] }, 'text'), 'start\nend\n');
  });

  it('code and block filters are safe in both modes', () => {
    const v = 'a `tick` and ``two`` <i>';
    const text = renderString('t', '{{v | code}}', { v }, 'text');
    assert.equal(text, '```a `tick` and ``two`` <i>```', 'the fence is longer than any backtick run in the value');
    assert.equal(renderString('t', '{{v | code}}', { v }, 'html'), '<code>a `tick` and ``two`` &lt;i&gt;</code>');
    const block = renderString('t', '{{v | block}}', { v: 'x\n```\ny' }, 'text');
    assert.equal(block, '````\nx\n```\ny\n````', 'a block containing a fence gets a longer fence');
    assert.equal(renderString('t', '{{v | block}}', { v: ['<a>', 'b'] }, 'html'), '<pre><code>&lt;a&gt;\nb</code></pre>');
    assert.equal(renderString('t', '{{v | prose}}', { v: 'run `<cmd>` now' }, 'html'), 'run <code>&lt;cmd&gt;</code> now');
  });

  it('refuses typos and unsafe paths with the template name and line', () => {
    assert.throws(() => renderString('notice.md', 'a\nb {{ missing.name }}', {}, 'text'), (e: unknown) => e instanceof TemplateError && /notice\.md line 2: no value named missing\.name/.test(e.message));
    assert.throws(() => compileTemplate('t', '{{#if x}}open'), /t line 1: \{\{#if\}\} is never closed/);
    assert.throws(() => compileTemplate('t', '{{/each}}'), /unexpected \{\{\/each\}\}/);
    assert.throws(() => compileTemplate('t', '{{ x.__proto__ }}'), /may not be used/);
    assert.throws(() => compileTemplate('t', '{{ constructor }}'), /may not be used/);
    assert.throws(() => compileTemplate('t', '{{ x | shout }}'), /unknown filter/);
    assert.throws(() => compileTemplate('t', '{{ a + b }}'), /is not a variable path/);
    assert.throws(() => compileTemplate('t', 'a }} b'), /unbalanced/);
    assert.throws(() => renderString('t', '{{ xs }}', { xs: [1] }, 'text'), /is a list/);
  });

  it('looks up own properties only (nothing from the prototype chain)', () => {
    assert.throws(() => renderString('t', '{{ toString }}', {}, 'text'), /no value named toString/);
    assert.throws(() => renderString('t', '{{ s.length }}', { s: 'abc' }, 'text'), /no value named s\.length/);
  });
});
