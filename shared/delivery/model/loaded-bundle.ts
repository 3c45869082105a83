/** What a bundle loader hands to the model: the YAML documents of a folder or an archive, before any meaning is given to them. */
export interface BundleDocument {
  /** Path relative to the bundle root, forward slashes, e.g. "app.yaml" or "k8s/web.yaml". */
  file: string;
  /** 0-based position of the document inside its file (empty documents count). */
  index: number;
  /** 1-based line where the document's data starts (after its `---` and any leading comments). */
  line: number;
  /** The parsed mapping: plain JSON-like data (core schema: no Dates, no yaml nodes). */
  value: Record<string, unknown>;
}

export interface LoadedBundle {
  /** The path or name it was loaded from. */
  source: string;
  /** YAML files read, sorted. */
  files: string[];
  /** In file order, then document order; empty documents skipped. */
  documents: BundleDocument[];
}
