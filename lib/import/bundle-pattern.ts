/**
 * Which bundle a watched file belongs to, from its path relative to the watched folder (or bucket prefix) and a
 * pattern the operator gives: `{bundle}` captures one path part (or part of one), `*` matches within one
 * folder or file name, `**` any number of folders. Examples:
 *
 *   {bundle}/**                     the first folder is the bundle (as --bundle-from-dir)
 *   station-* /{bundle}/*.tif       (without the space) the second folder, under any station folder
 *   ** /{bundle}_*.tif              (without the space) the file name up to its first underscore
 *
 * A file the pattern does not fit is rejected with that reason, never put in a guessed bundle.
 */
export interface BundlePattern {
  source: string;
  /** The bundle of `rel` (forward slashes), or null when the pattern does not fit it. */
  bundleOf(rel: string): string | null;
}

export class BundlePatternError extends Error {}

export function compileBundlePattern(pattern: string): BundlePattern {
  const count = pattern.split('{bundle}').length - 1;
  if (count !== 1)
    throw new BundlePatternError(
      `the bundle pattern ${JSON.stringify(pattern)} must contain {bundle} exactly once (e.g. {bundle}/** or **/{bundle}_*.tif)`,
    );
  let re = '^';
  for (let i = 0; i < pattern.length;) {
    if (pattern.startsWith('{bundle}', i)) {
      re += '([^/]+?)';
      i += 8;
    } else if (pattern.startsWith('**/', i)) {
      re += '(?:[^/]+/)*';
      i += 3;
    } else if (pattern.startsWith('**', i)) {
      re += '.*';
      i += 2;
    } else if (pattern[i] === '*') {
      re += '[^/]*';
      i += 1;
    } else {
      re += pattern[i].replace(/[.+?^${}()|[\]\\]/g, '\\$&');
      i += 1;
    }
  }
  const compiled = new RegExp(`${re}$`);
  return {
    source: pattern,
    bundleOf(rel) {
      const m = compiled.exec(rel);
      return m ? m[1] : null;
    },
  };
}

/** Every file into one bundle (`--bundle NAME`). */
export function singleBundle(name: string): BundlePattern {
  return { source: `(every file into ${name})`, bundleOf: () => name };
}
