// Snippets for a search of one word, made here from the article's body instead of by ts_headline in
// the database: ts_headline parses and stems every word it is given, and that was most of a
// one-word search's database CPU. The query's lexeme comes from the database (websearch_to_tsquery);
// a word of the body matches when its Snowball English stem is that lexeme and it is not one of
// PostgreSQL's English stop words: the stemmer is the one PostgreSQL's english_stem runs
// (snowball-stemmers; equal on the 115,061 non-stop words of Debian's american-english-large). Words
// are runs of letters, as the parser splits them: not inside a run of letters and digits, nor part
// of a host, an email or a path (x.word.com, word@x.org, a/word). docs/schema.md, "Snippets";
// test/schema/searchRanking.test.ts checks the marks against ts_headline's on the same text.
import { createRequire } from 'node:module';
import { BEFORE, BODY_SLICE, WINDOW } from './queries.ts';

interface Stemmer { stem(word: string): string }
const english: Stemmer = (createRequire(import.meta.url)('snowball-stemmers') as { newStemmer(lang: string): Stemmer }).newStemmer('english');

/** PostgreSQL 15's tsearch_data/english.stop. */
const STOP_WORDS = new Set(('i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers ' +
  'herself it its itself they them their theirs themselves what which who whom this that these those am is are was were be been ' +
  'being have has had having do does did doing a an the and but if or because as until while of at by for with about against ' +
  'between into through during before after above below to from up down in out on off over under again further then once here ' +
  'there when where why how all any both each few more most other some such no nor not only own same so than too very s t can ' +
  'will just don should now').split(' '));


// The words of a text that begin with one letter (either case): a lexeme keeps its word's first
// letter, so only those words can be a match. One expression per letter, made when first needed.
const wordsByInitial = new Map<string, RegExp>();
function wordsStartingWith(initial: string): RegExp {
  let re = wordsByInitial.get(initial);
  if (re === undefined) {
    re = new RegExp(`(?<![\\p{L}\\p{N}.@/])[${initial}${initial.toUpperCase()}]\\p{L}*(?![\\p{L}\\p{N}]|[.@/][\\p{L}\\p{N}])`, 'gu');
    wordsByInitial.set(initial, re);
  }
  return re;
}

// Stems already computed (the stemmer costs ~7 µs a word; a page's words repeat); emptied when full.
const stems = new Map<string, string>();
const MAX_STEMS = 50_000;

/** Whether a word is a match for the lexeme: its stem, unless it is a stop word. */
function matches(word: string, lexeme: string): boolean {
  const lower = word.toLowerCase();
  let s = stems.get(lower);
  if (s === undefined) {
    if (stems.size >= MAX_STEMS) stems.clear();
    s = STOP_WORDS.has(lower) ? '' : english.stem(lower);
    stems.set(lower, s);
  }
  return s === lexeme;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const HTML_SPECIAL = /[&<>"']/;

/** Text as HTML: & < > " ' escaped. Most text has none: a test that allocates nothing spares the replace. */
export const escapeHtml = (s: string): string => (HTML_SPECIAL.test(s) ? s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!) : s);

/** Safe HTML: WINDOW characters of the body from BEFORE ahead of its first match (from its
 *  beginning when it has none), less a partial first and last word and U+0001 and U+0002, escaped,
 *  every match in <mark>. A body of WINDOW characters or fewer is shown whole. `body` is the
 *  article's or a slice of it (search.ranked.word): `cut` when the slice starts inside the body, and
 *  the body goes on past it when it is longer than BODY_SLICE characters. */
export function wordSnippet(body: string, lexeme: string, cut: boolean): string {
  const words = /^[a-z]+$/.test(lexeme) ? wordsStartingWith(lexeme[0]!) : undefined;
  const more = body.length > BODY_SLICE;
  let text = more ? body.slice(0, BODY_SLICE) : body;
  if (cut || more || text.length > WINDOW) {
    let at = 0;
    for (const m of words ? text.matchAll(words) : []) {
      if (matches(m[0], lexeme)) {
        at = m.index!;
        break;
      }
    }
    const from = Math.max(0, at - BEFORE);
    const w = text.slice(from, from + WINDOW);
    const start = from > 0 || cut ? w.indexOf(' ') + 1 : 0;
    const last = more || from + WINDOW < text.length ? w.lastIndexOf(' ') : -1;
    text = w.slice(start, last >= start ? last : w.length);
  }
  // U+0001 and U+0002 are taken out, as ts_headline's path takes them out (its marks): no snippet holds them.
  text = text.replaceAll('\u0001', '').replaceAll('\u0002', '');
  let html = '';
  let done = 0;
  for (const m of words ? text.matchAll(words) : []) {
    if (!matches(m[0], lexeme)) continue;
    html += `${escapeHtml(text.slice(done, m.index))}<mark>${escapeHtml(m[0])}</mark>`;
    done = m.index! + m[0].length;
  }
  return html + escapeHtml(text.slice(done));
}
