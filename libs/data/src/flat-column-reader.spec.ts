import { ColumnMetaData, FileMetaData, parquetMetadata } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { NullValueError, readFlatColumnChunk } from './flat-column-reader';

/** Pages of one column chunk as the reader hands them over: [first row, values]. */
function readPages(
  file: ArrayBuffer,
  metadata: FileMetaData,
  chunk: ColumnMetaData,
): Array<[number, number[]]> {
  const element = metadata.schema.find(({ name }) => name === chunk.path_in_schema[0])!;
  const pages: Array<[number, number[]]> = [];
  readFlatColumnChunk(file, { metadata, chunk, element, compressors, parsers: {} }, (values, row) =>
    pages.push([row, Array.from(values as ArrayLike<number>)]),
  );
  return pages;
}

/** A file of one nullable DOUBLE column `price`, as pandas or DuckDB would declare it. */
function nullableColumnFile(
  data: Array<number | null>,
  options: { rowGroupSize?: number; pageSize?: number; codec?: 'SNAPPY' | 'UNCOMPRESSED' } = {},
) {
  const file = parquetWriteBuffer({
    schema: [
      { name: 'root', num_children: 1 },
      { name: 'price', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    ],
    columnData: [{ name: 'price', data }],
    rowGroupSize: options.rowGroupSize ?? 100_000,
    pageSize: options.pageSize,
    codec: options.codec,
  });
  return { file, metadata: parquetMetadata(file) };
}

describe('readFlatColumnChunk', () => {
  it('hands over the values of a nullable column without nulls page by page, at their rows', () => {
    const data = Array.from({ length: 5000 }, (_, i) => i * 0.5);
    const { file, metadata } = nullableColumnFile(data, { pageSize: 8000 });
    const pages = readPages(file, metadata, metadata.row_groups[0].columns[0].meta_data!);
    expect(pages.length).toBeGreaterThan(1);
    let expectedRow = 0;
    for (const [row, values] of pages) {
      expect(row).toBe(expectedRow);
      expect(values).toEqual(data.slice(row, row + values.length));
      expectedRow += values.length;
    }
    expect(expectedRow).toBe(data.length);
  });

  it('stops at the first null, naming its row within the chunk', () => {
    const data: Array<number | null> = Array.from({ length: 3000 }, (_, i) => i);
    data[2345] = null;
    const { file, metadata } = nullableColumnFile(data, { pageSize: 4000, codec: 'SNAPPY' });
    const chunk = metadata.row_groups[0].columns[0].meta_data!;
    expect(() => readPages(file, metadata, chunk)).toThrow(
      expect.objectContaining({ rowInChunk: 2345 }) as NullValueError,
    );
  });

  it('ends with an error on a page header without a size, instead of looping', () => {
    // A thrift PageHeader with type DATA_PAGE and uncompressed size 10, but no compressed size
    // and no data page header: what a few damaged bytes in a real file decoded to.
    const header = Uint8Array.from([0x15, 0x00, 0x15, 0x14, 0x00]);
    const file = new Uint8Array(64);
    file.set(header);
    const metadata = {
      version: 1,
      schema: [
        { name: 'root', num_children: 1 },
        { name: 'price', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
      ],
      num_rows: 1n,
      row_groups: [],
      metadata_length: 0,
    } as unknown as FileMetaData;
    const chunk = {
      type: 'DOUBLE',
      encodings: ['PLAIN'],
      path_in_schema: ['price'],
      codec: 'UNCOMPRESSED',
      num_values: 1n,
      total_uncompressed_size: 64n,
      total_compressed_size: 64n,
      data_page_offset: 0n,
    } as ColumnMetaData;
    expect(() => readPages(file.buffer, metadata, chunk)).toThrow(/impossible page size/);
  });

  it('refuses a column chunk that would lie beyond the end of the file', () => {
    const { file, metadata } = nullableColumnFile([1, 2, 3]);
    const chunk = metadata.row_groups[0].columns[0].meta_data!;
    const beyond = { ...chunk, total_compressed_size: BigInt(file.byteLength) };
    expect(() => readPages(file, metadata, beyond)).toThrow(/outside the file/);
  });
});
