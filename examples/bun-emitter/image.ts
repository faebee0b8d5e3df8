// A real (tiny) OCI image in memory: two gzipped tar layers, the config that lists their diff
// ids, and the manifest that references all three. Web-standard APIs only (Web Crypto,
// CompressionStream), so the digests and sizes in the events are the ones a registry would see.

/**
 * The OCI media types of the image's parts.
 *
 * @example
 * ```ts
 * const manifest = { mediaType: MediaTypes.manifest, digest, size };
 * ```
 */
export const MediaTypes = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

/**
 * One content-addressed blob: its bytes and the descriptor a manifest uses for it.
 *
 * @example
 * ```ts
 * const blob = await toBlob(MediaTypes.config, new TextEncoder().encode("{}"));
 * blob.digest; // "sha256:44136fa3…"
 * ```
 */
export interface ImageBlob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * The pushed image: config, layers (in order) and manifest.
 *
 * @example
 * ```ts
 * const image = await buildImage({ "hello.txt": "hello\n", "world.txt": "world\n" });
 * image.layers.length; // 2
 * ```
 */
export interface Image {
  config: ImageBlob;
  layers: ImageBlob[];
  manifest: ImageBlob;
}

const encoder = new TextEncoder();

/**
 * `sha256:<hex>` of some bytes.
 *
 * @example
 * ```ts
 * await sha256Digest(new Uint8Array()); // "sha256:e3b0c442…b855"
 * ```
 */
export async function sha256Digest(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${Array.from(hash, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * A blob with its digest and size.
 *
 * @example
 * ```ts
 * const config = await toBlob(MediaTypes.config, encoder.encode("{}"));
 * ```
 */
export async function toBlob(
  mediaType: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<ImageBlob> {
  return { mediaType, digest: await sha256Digest(bytes), size: bytes.byteLength, bytes };
}

/** Writes `text` into `header` at `offset` (ASCII, NUL-padded by the zeroed buffer). */
function put(header: Uint8Array, offset: number, text: string): void {
  header.set(encoder.encode(text), offset);
}

/** An octal tar number field of `width` bytes (digits, then NUL). */
function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0");
}

/**
 * A ustar archive holding one regular file (mode 0644, owner 0, mtime 0, so it is reproducible).
 *
 * @example
 * ```ts
 * const tar = tarFile("hello.txt", encoder.encode("hello\n")); // 2048 bytes
 * ```
 */
export function tarFile(name: string, content: Uint8Array): Uint8Array<ArrayBuffer> {
  if (encoder.encode(name).length > 100) throw new RangeError(`tar name too long: ${name}`);
  const header = new Uint8Array(512);
  put(header, 0, name);
  put(header, 100, octal(0o644, 8));
  put(header, 108, octal(0, 8));
  put(header, 116, octal(0, 8));
  put(header, 124, octal(content.length, 12));
  put(header, 136, octal(0, 12));
  put(header, 148, "        "); // the checksum counts its own field as eight spaces
  put(header, 156, "0");
  put(header, 257, "ustar\u000000");
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  put(header, 148, `${octal(checksum, 7)}\u0000 `);
  const padded = Math.ceil(content.length / 512) * 512;
  // header + content padded to 512 + two zero blocks marking the end of the archive
  const archive = new Uint8Array(512 + padded + 1024);
  archive.set(header, 0);
  archive.set(content, 512);
  return archive;
}

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Builds the image: one layer per file (a gzipped tar), a linux/amd64 config whose `diff_ids`
 * are the uncompressed layer digests, and the OCI manifest.
 *
 * @example
 * ```ts
 * const { config, layers, manifest } = await buildImage({ "a.txt": "a\n", "b.txt": "b\n" });
 * ```
 */
export async function buildImage(files: Record<string, string>): Promise<Image> {
  const layers: ImageBlob[] = [];
  const diffIds: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const tar = tarFile(name, encoder.encode(text));
    diffIds.push(await sha256Digest(tar));
    layers.push(await toBlob(MediaTypes.layer, await gzip(tar)));
  }
  const configJson = {
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["/bin/sh"] },
    rootfs: { type: "layers", diff_ids: diffIds },
  };
  const config = await toBlob(MediaTypes.config, encoder.encode(JSON.stringify(configJson)));
  const descriptor = ({ mediaType, digest, size }: ImageBlob) => ({ mediaType, digest, size });
  const manifestJson = {
    schemaVersion: 2,
    mediaType: MediaTypes.manifest,
    config: descriptor(config),
    layers: layers.map(descriptor),
  };
  const manifest = await toBlob(
    MediaTypes.manifest,
    encoder.encode(JSON.stringify(manifestJson, null, 2)),
  );
  return { config, layers, manifest };
}
