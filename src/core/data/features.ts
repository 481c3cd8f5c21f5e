// Class names from `datasets` feature descriptions (dataset_info.json, or the "huggingface" metadata that
// `datasets` stores in Parquet and Arrow schemas), so ids can be shown as names.

type FeatureJson = unknown;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** { column or dotted path: names } for every ClassLabel, also inside Sequence/List features and structs. */
export function classNamesFromFeatures(features: FeatureJson): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const visit = (f: FeatureJson, path: string): void => {
    if (Array.isArray(f)) {
      if (f.length === 1) visit(f[0], path);
      return;
    }
    if (!isObj(f)) return;
    const type = f._type;
    if (type === 'ClassLabel') {
      if (Array.isArray(f.names) && f.names.every((n) => typeof n === 'string')) out[path] = f.names as string[];
      return;
    }
    if (type === 'Sequence' || type === 'List' || type === 'LargeList') {
      visit(f.feature, path);
      return;
    }
    if (type === undefined) {
      for (const [k, sub] of Object.entries(f)) visit(sub, path ? `${path}.${k}` : k);
    }
  };
  if (isObj(features)) for (const [k, f] of Object.entries(features)) visit(f, k);
  return out;
}

/** The features inside a "huggingface" schema-metadata value ({"info": {"features": ...}}), if any. */
export function featuresFromSchemaMetadata(value: string | undefined): FeatureJson | undefined {
  if (!value) return undefined;
  try {
    const meta = JSON.parse(value) as { info?: { features?: unknown } };
    return meta.info?.features;
  } catch {
    return undefined; // metadata is a convenience; a malformed one must not stop the read
  }
}
