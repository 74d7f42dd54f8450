/**
 * The catalog options `analyze` and `catalog` share, so that both take a catalog the same way:
 * `--catalog NAME|FILE` (a built-in product name or a catalog file) or `--product NAME` (a
 * built-in product only); at most one of them; the default is DEFAULT_PRODUCT.
 */
import { Option, type Command } from 'commander';
import { CatalogError, DEFAULT_PRODUCT, listProducts } from '../catalog/index.js';

export interface CatalogChoice {
  catalog?: string;
  product?: string;
}

export function addCatalogOptions(cmd: Command): Command {
  const products = listProducts().join(', ');
  return cmd
    .addOption(
      new Option(
        '-c, --catalog <name|file>',
        `port catalog: a built-in one (${products}) or a catalog file (JSON, see catalog/catalog.schema.json; default ${DEFAULT_PRODUCT})`,
      ).conflicts('product'),
    )
    .addOption(new Option('--product <name>', `a built-in catalog by product name (${products})`));
}

/** The catalog to load: a name or a path for loadCatalog. Throws a CatalogError for an unknown --product. */
export function catalogSpec(opts: CatalogChoice): string {
  if (opts.product !== undefined) {
    const products = listProducts();
    if (!products.includes(opts.product))
      throw new CatalogError(
        `--product ${opts.product}: no such built-in catalog; the built-in catalogs are ${products.join(', ')} (a file goes with --catalog)`,
      );
    return opts.product;
  }
  return opts.catalog ?? DEFAULT_PRODUCT;
}
