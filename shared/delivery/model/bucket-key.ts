import { TricenterError } from '../../platform/errors.ts';
import type { AppRef } from './ownership.ts';

/**
 * The one rule for bundle object keys: `bundles/<namespace>/<name>.<ext>`, where namespace and name
 * are DNS-1123 labels (the namespace is the tenant, the name the application) and ext is one of
 * BUNDLE_EXTENSIONS, lower case. Anything else under `bundles/` is refused with a reason and never
 * deployed: a sub-folder, a look-alike letter or a `%2F` must not name an application the key does
 * not plainly spell.
 */
export const BUNDLE_PREFIX = 'bundles/';

/** Longest first, so `web.tar.gz` is read as `.tar.gz`, never as a name ending in `.tar`. */
export const BUNDLE_EXTENSIONS = ['tar.gz', 'tgz', 'zip', 'yaml', 'yml'] as const;
export type BundleExtension = (typeof BUNDLE_EXTENSIONS)[number];

export type BucketKeyVerdict = { ok: true; app: AppRef; extension: BundleExtension } | { ok: false; reason: string };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL = 63;

export function parseBucketKey(key: string): BucketKeyVerdict {
  const refuse = (reason: string): BucketKeyVerdict => ({ ok: false, reason: `object key ${JSON.stringify(key)}: ${reason}` });
  if (!key.startsWith(BUNDLE_PREFIX)) return refuse(`a bundle must be uploaded under ${BUNDLE_PREFIX}`);
  const segments = key.slice(BUNDLE_PREFIX.length).split('/');
  if (segments.length !== 2) {
    return refuse(
      `must be ${BUNDLE_PREFIX}<namespace>/<name>.<ext> with no sub-folder (found ${segments.length - 1} folder level(s) below ${BUNDLE_PREFIX})`,
    );
  }
  const [namespace, file] = segments as [string, string];
  const extension = BUNDLE_EXTENSIONS.find((ext) => file.endsWith(`.${ext}`));
  if (!extension) return refuse(`the extension must be one of ${BUNDLE_EXTENSIONS.map((e) => `.${e}`).join(', ')} (lower case)`);
  const name = file.slice(0, -(extension.length + 1));
  const namespaceProblem = labelProblem(namespace);
  if (namespaceProblem) return refuse(`the namespace ${JSON.stringify(namespace)} ${namespaceProblem}`);
  const nameProblem = labelProblem(name);
  if (nameProblem) return refuse(`the application name ${JSON.stringify(name)} ${nameProblem}`);
  return { ok: true, app: { namespace, name }, extension };
}

/** The key an application's bundle is uploaded to; refuses names the rule would refuse. */
export function bundleKey(app: AppRef, extension: BundleExtension): string {
  const key = `${BUNDLE_PREFIX}${app.namespace}/${app.name}.${extension}`;
  const verdict = parseBucketKey(key);
  if (!verdict.ok) throw new TricenterError('VALIDATION', verdict.reason);
  return key;
}

/** Where an application's tenant uploads: every key of the tenant's folder starts with it. */
export function tenantFolder(namespace: string): string {
  return `${BUNDLE_PREFIX}${namespace}/`;
}

function labelProblem(label: string): string | undefined {
  if (label.length === 0) return 'is empty';
  if (label.length > MAX_LABEL) return `is ${label.length} characters long, over the ${MAX_LABEL} of a DNS-1123 label`;
  if (/[\u0080-\uffff]/.test(label)) return 'has non-ASCII characters (look-alike letters are refused): it must be a DNS-1123 label';
  if (!DNS_LABEL.test(label))
    return 'is not a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit)';
  return undefined;
}
