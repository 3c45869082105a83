// zod/mini: every handler parses its event with these first, so they must load fast (cold starts).
import * as z from 'zod/mini';

/** OSS trigger: one or more object events, as Function Compute 3.0 delivers them (sample: events/oss-bundle-uploaded.json). */
export const ossEventSchema = z.object({
  events: z
    .array(
      z.looseObject({
        eventName: z.string(),
        eventSource: z.optional(z.literal('acs:oss')),
        eventTime: z.optional(z.string()),
        region: z.optional(z.string()),
        /** Who wrote the object (RAM principal): the release's uploader, who may not approve it. */
        userIdentity: z.optional(z.looseObject({ principalId: z.optional(z.string()) })),
        oss: z.looseObject({
          bucket: z.looseObject({ name: z.string().check(z.minLength(1)) }),
          object: z.looseObject({
            key: z.string().check(z.minLength(1)),
            eTag: z.string().check(z.minLength(1)),
            size: z.int().check(z.nonnegative()),
          }),
        }),
      }),
    )
    .check(z.minLength(1)),
});
export type OssEvent = z.infer<typeof ossEventSchema>;
