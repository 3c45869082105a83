/**
 * YAML that kubectl's parser (libyaml-like) accepts and the strict `yaml` package did not: quoted
 * scalars continued at their key's indentation (CRDs of KubeVela addons), merge keys. Every limit
 * still holds on the repaired text, and a file that is really broken keeps its original error.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUNDLE_LIMITS } from '#shared/delivery/bundle/limits.ts';
import { parseYamlDocuments } from '#shared/delivery/bundle/yaml-documents.ts';
import { MAX_YAML_REPAIRS } from '#shared/delivery/bundle/yaml-tolerance.ts';

function parse(text: string, limits = {}) {
  return parseYamlDocuments('crd.yaml', text, { limits: { ...DEFAULT_BUNDLE_LIMITS, ...limits }, documentsSoFar: 0 }).map((d) => d.value);
}

/** As in e2e/addon/mock/testdata/fluxcd/resources/crds/kustomize.yaml of KubeVela (line 36 there). */
const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: kustomizations.kustomize.toolkit.fluxcd.io
spec:
  versions:
    - name: v1beta1
      schema:
        openAPIV3Schema:
          properties:
            apiVersion:
              description: 'APIVersion defines the versioned schema of this representation
              of an object. Servers should convert recognized schemas to the latest
              internal value, and may reject unrecognized values. It''s quoted.'
              type: string
            kind:
              description: "Kind is a string value representing the REST resource this
              object represents. \\"Quoted\\" too."
              type: string
          - keep: 'a sequence entry
            continued'
`;

describe('YAML as tolerant as kubectl for valid YAML', () => {
  it('reads quoted scalars continued at their key indentation as libyaml does', () => {
    const [crd] = parse(CRD.replace(/ {10}- keep[\s\S]*$/, ''));
    const props = (crd as any).spec.versions[0].schema.openAPIV3Schema.properties;
    expect(props.apiVersion).toEqual({
      description:
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. It's quoted.",
      type: 'string',
    });
    expect(props.kind.description).toBe('Kind is a string value representing the REST resource this object represents. "Quoted" too.');
  });

  it('repairs a quoted scalar of a sequence entry continued at the entry key column', () => {
    expect(parse("items:\n- b: 'x\n  y'\n  c: 1\n")).toEqual([{ items: [{ b: 'x y', c: 1 }] }]);
  });

  it('reads flow collections continued at their key indentation as libyaml does', () => {
    expect(parse('a:\n  b: [x,\n  y, {c: 1,\n   d: 2}]\n')).toEqual([{ a: { b: ['x', 'y', { c: 1, d: 2 }] } }]);
    expect(parse('a:\n  b: {x: 1,\n  y: "two\n  words"}\n')).toEqual([{ a: { b: { x: 1, y: 'two words' } } }]);
    expect(parse('b: [x,\ny]\n')).toEqual([{ b: ['x', 'y'] }]);
  });

  it('leaves block scalars byte for byte, tabs and quote characters included', () => {
    const text = "script: |\n  echo 'unclosed\n  \tindented: 'also\n---\n# a comment after the marker\nb: 2\n";
    expect(parse(text)).toEqual([{ script: "echo 'unclosed\n\tindented: 'also\n" }, { b: 2 }]);
  });

  it('merges `<<: *anchor` keys as kubectl does', () => {
    expect(parse('base: &b {x: 1, y: 1}\nmerged:\n  <<: *b\n  y: 2\n')).toEqual([{ base: { x: 1, y: 1 }, merged: { x: 1, y: 2 } }]);
  });
});

describe('YAML tolerance abuse', () => {
  it('keeps the original error for a quote that is never closed', () => {
    expect(() => parse("a: 'never closed\nb: 1\n")).toThrow(
      /crd\.yaml \(document 1\): YAML syntax error at line \d+, column \d+: Missing closing 'quote/,
    );
  });

  it('keeps the original error for a flow collection that is never closed', () => {
    expect(() => parse('a:\n  b: [x,\n  y\nc: 1\n')).toThrow(
      /crd\.yaml \(document 1\): YAML syntax error at line 3, column 3: Flow sequence in block collection must be sufficiently indented/,
    );
  });

  it('gives up after MAX_YAML_REPAIRS repairs with the first error, however many scalars need one', () => {
    const scalar = (i: number) => `k${i}: 'first line\nk${i}x continued'\n`;
    const needsOne = `m:\n${Array.from({ length: MAX_YAML_REPAIRS }, (_, i) => `  ${scalar(i).replace('\n', '\n  ')}`).join('')}`;
    expect(Object.keys((parse(needsOne)[0] as { m: object }).m)).toHaveLength(MAX_YAML_REPAIRS);
    const tooMany = `m:\n${Array.from({ length: MAX_YAML_REPAIRS + 1 }, (_, i) => `  ${scalar(i).replace('\n', '\n  ')}`).join('')}`;
    expect(() => parse(tooMany)).toThrow(/crd\.yaml \(document 1\): YAML syntax error at line 2, column \d+: Missing closing 'quote/);
  });

  it('still applies the alias limits to a repaired file', () => {
    const laughs = `a: &a ['lol
  lol', x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`;
    expect(() => parse(`wrap:\n  q: 'x\n  y'\n${laughs}`, { maxAliasExpansion: 1_000 })).toThrow(
      /YAML aliases expand too much: exceeds the YAML alias count limit maxAliasCount = 100/,
    );
  });

  it('still applies the nesting limit to a repaired file', () => {
    const deep = `${'['.repeat(300)}${']'.repeat(300)}`;
    expect(() => parse(`q: 'x\ny'\nd: ${deep}\n`)).toThrow(/nesting depth limit maxDepth = 100/);
  });

  it('merge keys count against the alias expansion budget', () => {
    const big = Array.from({ length: 500 }, (_, i) => `k${i}: ${i}`).join(', ');
    const merges = Array.from({ length: 50 }, (_, i) => `m${i}: {<<: *big}`).join('\n');
    expect(() => parse(`base: &big {${big}}\n${merges}\n`, { maxAliasExpansion: 5_000 })).toThrow(/maxAliasExpansion = 5000/);
  });
});
