import { Composer, Parser, Lexer, LineCounter } from 'yaml';
import { checkNestingBeforeParsing, findDuplicateKey } from '#shared/bundle/yaml-guards.ts';
for (const n of [50000, 100000, 200000]) {
  let s = 'kind: A\ndata:\n'; for (let i = 0; i < n; i++) s += `  k${i}: v\n`;
  let t = performance.now(); const times: Record<string, number> = {};
  const lap = (k: string) => { times[k] = Math.round(performance.now() - t); t = performance.now(); };
  for (const _ of new Lexer().lex(s)); lap('lex');
  checkNestingBeforeParsing(s, 200); lap('guard');
  const cst = [...new Parser().parse(s)]; lap('parse');
  const lc = new LineCounter();
  const docs = [...new Composer({ uniqueKeys: false, schema: 'core', lineCounter: lc }).compose(new Parser(lc.addNewLine).parse(s))]; lap('parse+compose');
  findDuplicateKey(docs[0]!); lap('dup');
  docs[0]!.toJS({ maxAliasCount: 100 }); lap('toJS');
  console.log(n, JSON.stringify(times));
}
