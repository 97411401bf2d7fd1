/**
 * What the portal build (scripts/buildPortal.ts) writes beside the assets and the portal function
 * (functions/portal.ts) reads: the list of files to serve. Its presence marks a built portal.
 */
export const portalManifestFile = 'manifest.json';

export interface PortalManifestFile {
  /** Relative to the portal directory, with forward slashes: `index.html`, `assets/main-XXXX.js`. */
  path: string;
  /** Content-hashed names (everything under assets/) may be cached for good; index.html never. */
  immutable: boolean;
  /** Pre-compressed variants written beside the file: `.br` and `.gz`. */
  encodings: ('br' | 'gzip')[];
}

export interface PortalManifest {
  files: PortalManifestFile[];
}
