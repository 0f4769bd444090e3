// Apple Health's export.zip, unzipped as a stream: bytes of the archive go in chunk by chunk,
// and the text of apple_health_export/export.xml comes out chunk by chunk (every other entry —
// export_cda.xml, workout routes, ECGs — is skipped without being inflated). Pure: no I/O.
import { Unzip, type UnzipFile, UnzipInflate, UnzipPassThrough } from "fflate";

export class ZipProblem extends Error {
  /**
   * @param refusesAll a zip bomb: nothing read from it counts (a damaged zip keeps what was
   *   read before the damage)
   */
  constructor(
    message: string,
    readonly refusesAll = false,
  ) {
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
  /**
   * Refuse as soon as export.xml has inflated to more than this many times the archive bytes
   * received so far (plus MIN_UNZIPPED_ALLOWANCE), or declares such a ratio in its header. A real
   * export.xml deflates 10–25×; whitespace or repeated records reach 1000×. Default 60.
   */
  maxRatio?: number;
}

/** Inflated bytes always allowed before the ratio applies (the first chunk of a small archive). */
export const MIN_UNZIPPED_ALLOWANCE = 1024 * 1024;
export const DEFAULT_MAX_ZIP_RATIO = 60;
/** Archive bytes handed to the inflater at once: at 1000× a step inflates at most 4 MiB. */
const STEP_BYTES = 4 * 1024;

export class AppleHealthZipReader {
  private readonly unzip: Unzip;
  private readonly decoder = new TextDecoder("utf-8");
  private error: ZipProblem | null = null;
  private entry: UnzipFile | null = null;
  private done = false;
  private unzippedBytes = 0;
  private zippedBytes = 0;
  private stoppedBy: { thrown: unknown } | null = null;
  private readonly maxUnzippedBytes: number;
  private readonly maxRatio: number;

  /** `onText` receives the export.xml text, in order, as it is inflated. */
  constructor(
    private readonly onText: (text: string) => void,
    options: AppleHealthZipOptions = {},
  ) {
    this.maxUnzippedBytes = options.maxUnzippedBytes ?? 4 * 1024 ** 3;
    this.maxRatio = options.maxRatio ?? DEFAULT_MAX_ZIP_RATIO;
    this.unzip = new Unzip((file) => {
      if (this.entry !== null || !isExportXml(file.name)) return;
      this.entry = file;
      // sizes from the entry's header (0 or absent when written by a streaming zipper)
      const declared = file.originalSize ?? 0;
      const packed = file.size ?? 0;
      if (packed > 0 && declared > packed * this.maxRatio + MIN_UNZIPPED_ALLOWANCE) {
        this.error = this.bomb(`declares ${declared} bytes packed into ${packed}`);
        return;
      }
      file.ondata = (error, data, final) => {
        if (this.error !== null || this.stoppedBy !== null) return;
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
        if (this.unzippedBytes > this.zippedBytes * this.maxRatio + MIN_UNZIPPED_ALLOWANCE) {
          this.error = this.bomb(
            `unpacks to more than ${this.unzippedBytes} bytes from ${this.zippedBytes}`,
          );
          file.terminate();
          return;
        }
        const text = this.decoder.decode(data, { stream: !final });
        try {
          if (text !== "") this.onText(text);
        } catch (thrown) {
          // the reader of the text stopped (too many samples): passed on as it is
          this.stoppedBy = { thrown };
          file.terminate();
          return;
        }
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

  private bomb(detail: string): ZipProblem {
    return new ZipProblem(
      `export.xml in the zip ${detail}: more than ${this.maxRatio} times its packed size, which no Apple Health export does (a zip bomb?)`,
      true,
    );
  }

  /** Feeds the next bytes of the archive; throws ZipProblem when it cannot be read. */
  push(chunk: Uint8Array, final = false): void {
    // in small steps, so that a bomb is noticed after inflating megabytes, not gigabytes
    let at = 0;
    do {
      const end = Math.min(chunk.length, at + STEP_BYTES);
      this.pushStep(chunk.subarray(at, end), final && end === chunk.length);
      at = end;
    } while (at < chunk.length);
  }

  private pushStep(chunk: Uint8Array, final: boolean): void {
    this.zippedBytes += chunk.length;
    if (this.error === null && this.stoppedBy === null) {
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
    if (this.stoppedBy !== null) throw this.stoppedBy.thrown;
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
