/**
 * RFC 4180 records read from byte chunks, so a file of any size streams through in bounded memory: quoted fields may
 * hold commas, doubled quotes and line breaks; LF, CRLF and CR end lines; a UTF-8 BOM at the start of the file is
 * dropped. Each record carries the line it starts on (the line a user looks up in an editor) and the byte offset it
 * starts at (where a later read of the same rows begins). Written here because csv-parse, the usual library, counts a
 * CRLF inside a quoted field as two lines and reports an unterminated quote where the file ends, not where it opened.
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

export interface CsvRecord {
  /** 1-based line the record starts on. */
  line: number;
  /** Byte offset of its first byte in the file. */
  start: number;
  fields: string[];
}

export class CsvRecordReader {
  private fields: string[] = [];
  private field = Buffer.alloc(256);
  private fieldLength = 0;
  private quoted = false;
  /** A quote inside a quoted field: its end, or the first of a doubled quote. The next byte decides. */
  private closing = false;
  /** The last byte was a CR: an LF right after it belongs to the same line break. */
  private afterCR = false;
  private line: number;
  private recordLine: number;
  private recordStart = -1;
  private quoteLine = 0;
  private offset: number;

  /** Reads from byte `offset` of `file` (named in errors), which is on `line`; a file's start may hold a BOM. */
  constructor(
    private readonly file: string,
    from: { offset: number; line: number } = { offset: 0, line: 1 },
  ) {
    this.offset = from.offset;
    this.line = from.line;
    this.recordLine = from.line;
  }

  /** The records that end within `chunk` (bytes that follow the previous chunk). */
  push(chunk: Uint8Array): CsvRecord[] {
    const records: CsvRecord[] = [];
    let i = 0;
    if (this.offset === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
      i = 3;
      this.offset = 3;
    }
    for (; i < chunk.length; i++, this.offset++) {
      const c = chunk[i]!;
      if (this.afterCR) {
        this.afterCR = false;
        if (c === LF) continue;
      }
      if (this.closing) {
        this.closing = false;
        if (c === QUOTE) {
          this.append(QUOTE);
          continue;
        }
        this.quoted = false;
      }
      if (this.recordStart < 0) this.recordStart = this.offset;
      const newline = c === LF || c === CR;
      if (this.quoted) {
        if (c === QUOTE) this.closing = true;
        else this.append(newline ? LF : c);
      } else if (c === QUOTE && this.fieldLength === 0) {
        this.quoted = true;
        this.quoteLine = this.line;
      } else if (c === COMMA) {
        this.endField();
      } else if (newline) {
        this.endRecord(records);
        this.recordLine = this.line + 1;
      } else {
        this.append(c);
      }
      if (newline) {
        this.line++;
        this.afterCR = c === CR;
      }
    }
    return records;
  }

  /** The last record, when the input does not end with a line break. */
  end(): CsvRecord[] {
    if (this.closing) this.quoted = false;
    if (this.quoted) throw new Error(`${this.file}: unterminated quoted field starting on line ${this.quoteLine}`);
    const records: CsvRecord[] = [];
    this.endRecord(records);
    return records;
  }

  private append(byte: number): void {
    if (this.fieldLength === this.field.length) {
      const grown = Buffer.alloc(this.field.length * 2);
      this.field.copy(grown);
      this.field = grown;
    }
    this.field[this.fieldLength++] = byte;
  }

  private endField(): void {
    this.fields.push(this.field.toString('utf8', 0, this.fieldLength));
    this.fieldLength = 0;
  }

  private endRecord(records: CsvRecord[]): void {
    this.endField();
    // A blank line is one empty field: skip it rather than report a row with nothing in it.
    if (this.fields.length > 1 || this.fields[0]!.trim() !== '') records.push({ line: this.recordLine, start: this.recordStart, fields: this.fields });
    this.fields = [];
    this.recordStart = -1;
  }
}
