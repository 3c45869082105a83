import { z } from 'zod';
import type { KubeObject } from './kube.ts';

/** Validates the part of a Kubernetes object every layer relies on (see KubeObject). */
export const kubeObjectSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().min(1).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
}) satisfies z.ZodType<KubeObject>;
