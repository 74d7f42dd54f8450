/**
 * The one error the catalog stage throws: a bad catalog file, an unknown catalog or role, or a
 * bad --media-ports value. Its message is a single line that names the file, the row (index and
 * id) and the field, so the CLI prints it as is and exits with status 2.
 */
export class CatalogError extends Error {
  override name = 'CatalogError';
}
