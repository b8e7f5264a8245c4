import { DatasetFormatError } from '../datasetError';
import { wrongFileSignature } from '../fileSignature';
import type { DatasetFormatName } from './names';

/** The source, after checking that its first bytes are not an archive's or a Parquet file's. */
export async function* refusingForeignText(source: AsyncIterable<Buffer>, format: DatasetFormatName): AsyncGenerator<Buffer> {
  const SIGNATURE_BYTES = 4;
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const chunk of source) {
    if (!head) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length < SIGNATURE_BYTES) continue;
    refuseForeign(format, head);
    yield head;
    head = undefined;
  }
  if (head?.length) {
    refuseForeign(format, head);
    yield head;
  }
}

function refuseForeign(format: DatasetFormatName, head: Buffer): void {
  const wrong = wrongFileSignature(format, head, head);
  if (wrong) throw new DatasetFormatError(wrong, 1);
}
