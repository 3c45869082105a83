import type { Component } from '../model/application.ts';
import { objectIdentity } from '../model/bundle.ts';
import type { KubeObject } from '../model/kube.ts';
import type { TopologyPolicy } from '../model/policy.ts';
import { placeAt, type SourcePlace } from '../model/source.ts';
import { deepFreeze } from './shared-objects.ts';
import { trackedValues, type ManifestSource } from './sources.ts';

/**
 * What one render() computes once and then shares between its steps and clusters: each
 * component's objects as the bundle gives them, each finished manifest, the canonical JSON of
 * every frozen part. Lives as long as that render() call, so render stays a pure function.
 */
export class RenderMemo {
  /** Canonical JSON of frozen parts (see canonicalJson), so a shared part is hashed once. */
  readonly canonical = new WeakMap<object, string>();
  private readonly components = new Map<Component, ComponentObjects>();
  /** The manifests made from each shared (frozen, pre-trait) object. */
  private readonly manifests = new Map<KubeObject, FinishedManifest[]>();
  private readonly relocations = new Map<TopologyPolicy, Relocation>();
  /** What traits make once from their properties (CopyOnWrite.madeOnce): shared by this render's manifests only. */
  readonly traitValues = new WeakMap<object, unknown>();
  /** objectIdentity of the objects as resolved, before traits. */
  private readonly identities = new Map<KubeObject, string>();
  /** Stamped labels by component, then by the labels they were made from (none: `undefined`). */
  private readonly labels = new Map<string, Map<Readonly<Record<string, string>> | undefined, Readonly<Record<string, string>>>>();

  /**
   * The component's objects before traits, made once per component when `properties` are its own
   * (then frozen and shared); properties an override merged into are resolved again each time.
   */
  componentObjects(component: Component, properties: unknown, make: () => ResolvedComponent): ComponentObjects {
    const own = properties === component.properties;
    const known = own ? this.components.get(component) : undefined;
    if (known) return known;
    const { objects, sources } = make();
    const made: ComponentObjects = { objects, sources, tracked: objects.map(trackedValues) };
    if (own) {
      for (const object of objects) {
        deepFreeze(object);
        this.manifests.set(object, []);
      }
      this.components.set(component, made);
    }
    return made;
  }

  /**
   * The finished manifest of a rendered object: made once for the same shared object, source,
   * component and relocation. An object a trait changed is new in each step: made each time.
   */
  manifest(
    rendered: { object: KubeObject; source: ManifestSource; component: string },
    relocation: Relocation | undefined,
    make: () => KubeObject,
  ): KubeObject {
    const finished = this.manifests.get(rendered.object);
    if (!finished) return make();
    const found = finished.find((m) => m.source === rendered.source && m.component === rendered.component && m.relocation === relocation);
    if (found) return found.manifest;
    const manifest = make();
    finished.push({ source: rendered.source, component: rendered.component, relocation, manifest });
    return manifest;
  }

  /**
   * The labels a manifest of `component` gets, made from its own `labels` by `make`: made once
   * and frozen when `labels` are frozen (shared) or absent, so manifests share them (and their
   * canonical text); made anew when they are the manifest's own.
   */
  stampedLabels(
    labels: Record<string, string> | undefined,
    component: string,
    make: (labels: Record<string, string> | undefined) => Record<string, string>,
  ): Record<string, string> {
    if (labels !== undefined && !Object.isFrozen(labels)) return make(labels);
    let byLabels = this.labels.get(component);
    if (!byLabels) {
      byLabels = new Map();
      this.labels.set(component, byLabels);
    }
    let stamped = byLabels.get(labels);
    if (!stamped) {
      stamped = Object.freeze(make(labels));
      byLabels.set(labels, stamped);
    }
    return stamped as Record<string, string>;
  }

  /**
   * objectIdentity(object, defaultNamespace) for `object`, the one the resolved `base` became
   * after traits (if any): made once per base, and used again while the fields it is made of
   * (apiVersion, kind, name, namespace) are still the base's, as env and scaler leave them.
   */
  identity(object: KubeObject, base: KubeObject | undefined, defaultNamespace: string): string {
    if (
      base === undefined ||
      (object !== base &&
        (object.apiVersion !== base.apiVersion ||
          object.kind !== base.kind ||
          object.metadata.name !== base.metadata.name ||
          object.metadata.namespace !== base.metadata.namespace))
    ) {
      return objectIdentity(object, defaultNamespace);
    }
    let identity = this.identities.get(base);
    if (identity === undefined) {
      identity = objectIdentity(base, defaultNamespace);
      this.identities.set(base, identity);
    }
    return identity;
  }

  /** A topology's `namespace` as one Relocation, the same for every step that lists the topology. */
  relocation(topology: TopologyPolicy): Relocation | undefined {
    const namespace = topology.properties.namespace;
    if (namespace === undefined) return undefined;
    let relocation = this.relocations.get(topology);
    if (!relocation) {
      relocation = { namespace, place: placeAt(topology.place, 'properties.namespace') };
      this.relocations.set(topology, relocation);
    }
    return relocation;
  }
}

/** A component's objects, each with where it came from, before its traits. */
export interface ResolvedComponent {
  objects: KubeObject[];
  sources: ManifestSource[];
}

/** ResolvedComponent, frozen, with each object's tracked values (trackedValues) for applying traits. */
export interface ComponentObjects {
  objects: readonly KubeObject[];
  sources: readonly ManifestSource[];
  tracked: readonly string[][];
}

/** A topology's `namespace`, and where it says so. */
export interface Relocation {
  namespace: string;
  place: SourcePlace;
}

interface FinishedManifest {
  source: ManifestSource;
  component: string;
  relocation: Relocation | undefined;
  manifest: KubeObject;
}
