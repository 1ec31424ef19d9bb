import type {
  ColumnMetaData,
  Compressors,
  DecodedArray,
  FileMetaData,
  PageHeader,
  ParquetParsers,
  SchemaElement,
} from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { convert, convertWithDictionary, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { getMaxDefinitionLevel, getSchemaPath } from 'hyparquet/src/schema.js';

/**
 * Reads one flat column chunk page by page with hyparquet's own page decoders, handing each
 * page's values over as hyparquet decoded them (a Float64Array for DOUBLE...).
 *
 * Why not `parquetRead`: for a nullable (OPTIONAL) column, hyparquet assembles every page
 * value by value into a plain Array, as it would a nested list, even when the page has no
 * null at all. Most writers (pyarrow, pandas, DuckDB, polars) mark every column nullable, so
 * that path made their files load several times slower (`npm run bench`, figures in
 * docs/PERFORMANCE.md). A candle column may not hold a null anyway: here a page's definition
 * levels are only checked for one, and the values go on untouched. Decoding (every encoding, every codec) stays hyparquet's.
 */

/** A column value that is null: the row (0-based, within the column chunk). */
export class NullValueError extends Error {
  constructor(readonly rowInChunk: number) {
    super(`null value at row ${rowInChunk}`);
  }
}

export interface FlatColumnOptions {
  metadata: FileMetaData;
  /** The column chunk's metadata, from the row group. */
  chunk: ColumnMetaData;
  /** The column's schema element as the values should be converted (see parquet-candles). */
  element: SchemaElement;
  compressors: Compressors;
  parsers: Partial<ParquetParsers>;
}

/**
 * Decodes the column chunk in `file`; calls `onPage(values, rowInChunk)` for each data page.
 * Throws NullValueError at the first null, and hyparquet's errors for damaged bytes.
 */
export function readFlatColumnChunk(
  file: ArrayBuffer,
  { metadata, chunk, element, compressors, parsers }: FlatColumnOptions,
  onPage: (values: DecodedArray, rowInChunk: number) => void,
): void {
  const start = Number(chunk.dictionary_page_offset ?? chunk.data_page_offset);
  const length = Number(chunk.total_compressed_size);
  if (start < 0 || length < 0 || start + length > file.byteLength) {
    throw new Error('column chunk lies outside the file');
  }
  const reader = { view: new DataView(file, start, length), offset: 0 };
  const schemaPath = getSchemaPath(metadata.schema, chunk.path_in_schema);
  const decoder = {
    pathInSchema: chunk.path_in_schema,
    type: chunk.type,
    element,
    schemaPath,
    codec: chunk.codec,
    compressors,
    parsers: { ...DEFAULT_PARSERS, ...parsers },
    utf8: true,
  };
  const maxDefinitionLevel = getMaxDefinitionLevel(schemaPath);
  const totalValues = Number(chunk.num_values);
  let dictionary: DecodedArray | undefined;
  let rows = 0;

  while (rows < totalValues) {
    if (reader.offset >= length) throw new Error('column chunk ends before its last value');
    const header = parquetHeader(reader);
    checkPageHeader(header, length - reader.offset);
    const pageBytes = new Uint8Array(file, start + reader.offset, header.compressed_page_size);
    // Always forward (a header is at least one byte): a damaged chunk ends, never loops.
    reader.offset += header.compressed_page_size;

    if (header.type === 'DICTIONARY_PAGE') {
      if (!header.dictionary_page_header) throw new Error('dictionary page without its header');
      const page = decompressPage(
        pageBytes,
        header.uncompressed_page_size,
        decoder.codec,
        compressors,
      );
      const pageReader = {
        view: new DataView(page.buffer, page.byteOffset, page.byteLength),
        offset: 0,
      };
      const values = readPlain(
        pageReader,
        decoder.type,
        header.dictionary_page_header.num_values,
        element.type_length,
      );
      dictionary = convert(values, decoder);
    } else if (header.type === 'DATA_PAGE') {
      const pageHeader = header.data_page_header;
      if (!pageHeader) throw new Error('data page without its header');
      const page = decompressPage(
        pageBytes,
        header.uncompressed_page_size,
        decoder.codec,
        compressors,
      );
      const { definitionLevels, dataPage } = readDataPage(page, pageHeader, decoder);
      // hyparquet empties the levels of a page without nulls.
      throwAtFirstNull(definitionLevels, maxDefinitionLevel, rows);
      const values = convertWithDictionary(dataPage, dictionary, pageHeader.encoding, decoder);
      onPage(values, rows);
      rows += pageHeader.num_values;
    } else if (header.type === 'DATA_PAGE_V2') {
      const pageHeader = header.data_page_header_v2;
      if (!pageHeader) throw new Error('data page (v2) without its header');
      const { definitionLevels, dataPage } = readDataPageV2(pageBytes, header, decoder);
      if (pageHeader.num_nulls > 0) throwAtFirstNull(definitionLevels, maxDefinitionLevel, rows);
      const values = convertWithDictionary(dataPage, dictionary, pageHeader.encoding, decoder);
      onPage(values, rows);
      rows += pageHeader.num_values;
    }
    // Index pages (and page types a later format adds) carry no values: skipped.
  }
}

/** Largest page this reader will inflate: Parquet writers make pages of about 1 MiB. */
const MAX_PAGE_BYTES = 1 << 30;

const isCount = (value: unknown, atMost = Number.MAX_SAFE_INTEGER): boolean =>
  Number.isInteger(value) && (value as number) >= 0 && (value as number) <= atMost;

/**
 * Numbers a damaged header could carry (missing, negative, past the chunk) end the read with
 * an error: hyparquet's decoders trust them, and a missing level length sent one into an
 * endless loop on a fuzzed file.
 */
function checkPageHeader(header: PageHeader, bytesLeft: number): void {
  const { compressed_page_size: compressed, uncompressed_page_size: uncompressed } = header;
  const impossible = (what: string, value: unknown) =>
    new Error(`page header gives an impossible ${what} (${String(value)})`);
  if (!isCount(compressed, bytesLeft)) throw impossible('page size', compressed);
  if (!isCount(uncompressed, MAX_PAGE_BYTES)) throw impossible('uncompressed size', uncompressed);
  const v1 = header.data_page_header;
  if (header.type === 'DATA_PAGE' && v1 && !isCount(v1.num_values)) {
    throw impossible('value count', v1.num_values);
  }
  const v2 = header.data_page_header_v2;
  if (header.type === 'DATA_PAGE_V2' && v2) {
    const { num_values: values, num_nulls: nulls, num_rows: rows } = v2;
    const {
      definition_levels_byte_length: definitions,
      repetition_levels_byte_length: repetitions,
    } = v2;
    if (!isCount(values)) throw impossible('value count', values);
    if (!isCount(nulls, values)) throw impossible('null count', nulls);
    if (!isCount(rows, values)) throw impossible('row count', rows);
    if (!isCount(definitions, compressed))
      throw impossible('definition levels length', definitions);
    if (!isCount(repetitions, compressed - definitions)) {
      throw impossible('repetition levels length', repetitions);
    }
  }
  const dictionary = header.dictionary_page_header;
  if (header.type === 'DICTIONARY_PAGE' && dictionary && !isCount(dictionary.num_values)) {
    throw impossible('dictionary size', dictionary.num_values);
  }
}

function throwAtFirstNull(
  definitionLevels: ArrayLike<number> | undefined,
  maxDefinitionLevel: number,
  rowOfFirstLevel: number,
): void {
  if (!definitionLevels) return;
  for (let i = 0; i < definitionLevels.length; i++) {
    if (definitionLevels[i] !== maxDefinitionLevel) throw new NullValueError(rowOfFirstLevel + i);
  }
}
