import { z } from 'zod';
import { byForm, KUBEVELA_TRAIT_TYPES, parseKubeVelaTrait, traitAlternative, type KubeVelaTrait } from './kubevela-traits.ts';
import { parseAt, placeAt, unsupportedType, type SourcePlace } from './source.ts';

/**
 * Traits: the changes an override policy (or a component itself) makes to a component's objects.
 * Each trait patches one object: the component's first, or the one `target` names (unlike
 * KubeVela, whose ref-objects traits only reach the first object, kubevela#5279). `target` sits
 * beside `type`, not inside `properties`, because a json-merge-patch's properties are the patch.
 */
const SUPPORTED_TRAIT_TYPES = [
  'env',
  'scaler',
  'json-merge-patch',
  'json-patch',
  'labels',
  'annotations',
  ...KUBEVELA_TRAIT_TYPES,
] as const;

const traitTargetSchema = z
  .strictObject({
    apiVersion: z.string().min(1).optional(),
    kind: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
  })
  .refine((t) => t.kind !== undefined || t.name !== undefined, 'a target names at least a kind or a name');
export type TraitTarget = z.infer<typeof traitTargetSchema>;

const envName = z.string().regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/, 'must be a valid environment variable name');

const envPatch = {
  /** `true`: the container's env becomes exactly `env`; otherwise `env` entries are set over the existing ones. */
  replace: z.boolean().default(false),
  env: z.record(envName, z.string()).default({}),
  unset: z.array(envName).default([]),
};
/** One container (`containerName`, default the component's name, as KubeVela does) or several (`containers`, each named). */
const envTraitSchema = byForm(
  z.strictObject({ containerName: z.string().min(1).optional(), ...envPatch }),
  z.strictObject({
    containers: z
      .array(
        z.strictObject({
          containerName: z
            .string({ error: 'containerName must be set for each entry of containers' })
            .min(1, 'containerName must be set for each entry of containers'),
          ...envPatch,
        }),
      )
      .min(1),
  }),
);

/** KubeVela's default: one replica. */
const scalerTraitSchema = z.strictObject({ replicas: z.number().int().min(0).default(1) });

/** json-merge-patch: the properties are the RFC 7396 patch itself. */
const jsonMergePatchTraitSchema = z.record(z.string(), z.unknown());

const jsonPointer = z.string().regex(/^(\/([^~/]|~[01])*)*$/, 'must be a JSON pointer such as /spec/replicas');
/** RFC 6902 4.x: an operation with a value must have the member, even if it is null. */
const withValue = <S extends z.ZodObject>(schema: S) => schema.refine((op) => 'value' in op, { message: 'needs a value', path: ['value'] });
// Loose objects: RFC 6902 A.11 says members an operation does not define are ignored.
const jsonPatchOperationSchema = z.discriminatedUnion('op', [
  withValue(z.looseObject({ op: z.literal('add'), path: jsonPointer, value: z.unknown() })),
  z.looseObject({ op: z.literal('remove'), path: jsonPointer }),
  withValue(z.looseObject({ op: z.literal('replace'), path: jsonPointer, value: z.unknown() })),
  z.looseObject({ op: z.literal('move'), from: jsonPointer, path: jsonPointer }),
  z.looseObject({ op: z.literal('copy'), from: jsonPointer, path: jsonPointer }),
  withValue(z.looseObject({ op: z.literal('test'), path: jsonPointer, value: z.unknown() })),
]);
const jsonPatchTraitSchema = z.strictObject({ operations: z.array(jsonPatchOperationSchema) });

/** labels / annotations: values set; `null` removes the key. */
const metadataMapTraitSchema = z.record(z.string().min(1), z.string().nullable());

export type Trait =
  | { type: 'env'; target?: TraitTarget; properties: z.infer<typeof envTraitSchema>; place: SourcePlace }
  | { type: 'scaler'; target?: TraitTarget; properties: z.infer<typeof scalerTraitSchema>; place: SourcePlace }
  | { type: 'json-merge-patch'; target?: TraitTarget; properties: Record<string, unknown>; place: SourcePlace }
  | { type: 'json-patch'; target?: TraitTarget; properties: z.infer<typeof jsonPatchTraitSchema>; place: SourcePlace }
  | { type: 'labels' | 'annotations'; target?: TraitTarget; properties: Record<string, string | null>; place: SourcePlace }
  | KubeVelaTrait;

const traitEnvelopeSchema = z.strictObject({
  type: z.string().min(1),
  target: traitTargetSchema.optional(),
  properties: z.unknown().optional(),
});

/** Validates one trait found at `place` (e.g. `properties.components[0].traits[1]`). */
export function parseTrait(value: unknown, place: SourcePlace): Trait {
  const envelope = parseAt(traitEnvelopeSchema, value, place);
  const propsPlace = placeAt(place, 'properties');
  const props = envelope.properties ?? {};
  const base = envelope.target ? { target: envelope.target, place } : { place };
  switch (envelope.type) {
    case 'env':
      return { ...base, type: 'env', properties: parseAt(envTraitSchema, props, propsPlace) };
    case 'scaler':
      return { ...base, type: 'scaler', properties: parseAt(scalerTraitSchema, props, propsPlace) };
    case 'json-merge-patch':
      return { ...base, type: 'json-merge-patch', properties: parseAt(jsonMergePatchTraitSchema, props, propsPlace) };
    case 'json-patch':
      return { ...base, type: 'json-patch', properties: parseAt(jsonPatchTraitSchema, props, propsPlace) };
    case 'labels':
    case 'annotations':
      return { ...base, type: envelope.type, properties: parseAt(metadataMapTraitSchema, props, propsPlace) };
    default: {
      const kubevela = parseKubeVelaTrait(envelope.type, props, base, propsPlace);
      if (kubevela) return kubevela;
      throw unsupportedType('trait', envelope.type, SUPPORTED_TRAIT_TYPES, place, traitAlternative(envelope.type));
    }
  }
}
