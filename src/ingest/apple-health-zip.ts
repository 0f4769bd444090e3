// Apple Health's export.zip, unzipped as a stream: bytes of the archive go in chunk by chunk,
// and the text of apple_health_export/export.xml comes out chunk by chunk (every other entry —
// export_cda.xml, workout routes, ECGs — is skipped without being inflated). Pure: no I/O.
import { Unzip, type UnzipFile, UnzipInflate, UnzipPassThrough } from "fflate";

export class ZipProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZipProblem";
  }
}

/** export.xml at the top or inside a folder (apple_health_export/export.xml, localised names). */
export function isExportXml(name: string): boolean {
  return /(^|\/)export\.xml$/i.test(name) && !name.startsWith("__MACOSX/");
}

export interface AppleHealthZipOptions {
  /** Refuse archives whose export.xml inflates beyond this (zip bombs); default 4 GiB. */
  maxUnzippedBytes?: number;
}

export class AppleHealthZipReader {
  private readonly unzip: Unzip;
  private readonly decoder = new TextDecoder("utf-8");
  private error: ZipProblem | null = null;
  private entry: UnzipFile | null = null;
  private done = false;
  private unzippedBytes = 0;
  private readonly maxUnzippedBytes: number;

  /** `onText` receives the export.xml text, in order, as it is inflated. */
  constructor(
    private readonly onText: (text: string) => void,
    options: AppleHealthZipOptions = {},
  ) {
    this.maxUnzippedBytes = options.maxUnzippedBytes ?? 4 * 1024 ** 3;
    this.unzip = new Unzip((file) => {
      if (this.entry !== null || !isExportXml(file.name)) return;
      this.entry = file;
      file.ondata = (error, data, final) => {
        if (this.error !== null) return;
        if (error) {
          this.error = new ZipProblem(`export.xml in the zip is damaged (${error.message})`);
          return;
        }
        this.unzippedBytes += data.length;
        if (this.unzippedBytes > this.maxUnzippedBytes) {
          this.error = new ZipProblem(
            `export.xml in the zip unpacks to more than ${this.maxUnzippedBytes} bytes`,
          );
          file.terminate();
          return;
        }
        const text = this.decoder.decode(data, { stream: !final });
        if (text !== "") this.onText(text);
        if (final) this.done = true;
      };
      try {
        file.start();
      } catch {
        this.error = new ZipProblem(
          `export.xml in the zip uses a compression method I cannot read (${file.compression})`,
        );
      }
    });
    this.unzip.register(UnzipInflate);
    this.unzip.register(UnzipPassThrough);
  }

  /** Feeds the next bytes of the archive; throws ZipProblem when it cannot be read. */
  push(chunk: Uint8Array, final = false): void {
    if (this.error === null) {
      try {
        this.unzip.push(chunk, final);
      } catch (error) {
        if (final && this.entry !== null && !this.done) {
          this.error ??= new ZipProblem("the zip ends before export.xml does (incomplete upload?)");
        }
        this.error ??= new ZipProblem(
          `the zip file is damaged (${error instanceof Error ? error.message : String(error)})`,
        );
      }
    }
    if (this.error !== null) throw this.error;
    if (final && !this.done) {
      throw new ZipProblem(
        this.entry === null
          ? 'the zip has no export.xml (expected apple_health_export/export.xml from Apple Health\'s "Export All Health Data")'
          : "the zip ends before export.xml does (incomplete upload?)",
      );
    }
  }
}
