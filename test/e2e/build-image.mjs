// Builds a small OCI image layout by hand: no docker, no network, fixed timestamps, so the
// digests are the same on every run. Tags: "v1" (1 layer), "v2" (2 layers, layer A shared with v1)
// and "multi" (an OCI index over linux/amd64 and linux/arm64, each with layer A + its own layer).
// Usage as a script: node test/e2e/build-image.mjs <dir>  (prints the digests as JSON).
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const MT_INDEX = "application/vnd.oci.image.index.v1+json";
const MT_CONFIG = "application/vnd.oci.image.config.v1+json";
const MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const CREATED = "2024-01-01T00:00:00Z";
const MTIME = 1704067200;

const sha256 = (bytes) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** Writes `value` as zero-padded octal into `size - 1` digits plus a NUL (ustar numeric field). */
function octal(header, offset, size, value) {
  header.write(`${value.toString(8).padStart(size - 1, "0")}\0`, offset, size, "ascii");
}

/** One ustar header block for a regular file owned by root. */
function tarHeader(name, size) {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long: ${name}`);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, "utf8");
  octal(header, 100, 8, 0o644);
  octal(header, 108, 8, 0);
  octal(header, 116, 8, 0);
  octal(header, 124, 12, size);
  octal(header, 136, 12, MTIME);
  header.fill(" ", 148, 156); // the checksum is computed over spaces in its own field
  header.write("0", 156, 1, "ascii");
  header.write("ustar\0", 257, 6, "ascii");
  header.write("00", 263, 2, "ascii");
  header.write("root", 265, 32, "ascii");
  header.write("root", 297, 32, "ascii");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return header;
}

/** A tar archive of `files` (path → bytes), sorted by path, ending with two zero blocks. */
export function tar(files) {
  const parts = [];
  for (const [path, content] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const bytes = Buffer.from(content);
    parts.push(
      tarHeader(path, bytes.length),
      bytes,
      Buffer.alloc((512 - (bytes.length % 512)) % 512),
    );
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

function layer(files) {
  const raw = tar(files);
  return { gz: gzipSync(raw, { level: 9 }), diffId: sha256(raw) };
}

class Layout {
  constructor(root) {
    this.root = root;
    this.blobs = new Map();
    this.tags = [];
  }
  blob(bytes, mediaType, extra = {}) {
    const digest = sha256(bytes);
    this.blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length, ...extra };
  }
  image(layers, architecture, cmd) {
    const layerDescs = layers.map((l) => this.blob(l.gz, MT_LAYER));
    const config = {
      architecture,
      config: { Cmd: cmd, Env: ["PATH=/"] },
      created: CREATED,
      history: layers.map(() => ({ created: CREATED, created_by: "build-image.mjs" })),
      os: "linux",
      rootfs: { diff_ids: layers.map((l) => l.diffId), type: "layers" },
    };
    const configDesc = this.blob(Buffer.from(JSON.stringify(config)), MT_CONFIG);
    const manifest = {
      schemaVersion: 2,
      mediaType: MT_MANIFEST,
      config: configDesc,
      layers: layerDescs,
      annotations: { "org.opencontainers.image.created": CREATED },
    };
    const desc = this.blob(Buffer.from(JSON.stringify(manifest, null, 2)), MT_MANIFEST);
    return {
      desc,
      summary: {
        manifest: desc.digest,
        config: configDesc.digest,
        layers: layerDescs.map((d) => d.digest),
      },
    };
  }
  tag(desc, name) {
    this.tags.push({ ...desc, annotations: { "org.opencontainers.image.ref.name": name } });
  }
  async write() {
    const dir = join(this.root, "blobs", "sha256");
    await mkdir(dir, { recursive: true });
    await writeFile(join(this.root, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    for (const [digest, bytes] of this.blobs) await writeFile(join(dir, digest.slice(7)), bytes);
    const index = { schemaVersion: 2, manifests: this.tags };
    await writeFile(join(this.root, "index.json"), JSON.stringify(index, null, 2));
  }
}

/**
 * Writes the layout to `root` and returns its digests:
 * `{ v1: {manifest, config, layers}, v2: {...}, "multi/amd64": {...}, "multi/arm64": {...},
 *    multi: { index } }`.
 */
export async function buildImage(root) {
  const lay = new Layout(root);
  const layerA = layer({ "hello.txt": "hello from the registry-relay e2e test\n" });
  const layerB = layer({ "extra.txt": "second layer for v2\n" });
  const summary = {};

  const v1 = lay.image([layerA], "amd64", ["/hello.txt"]);
  lay.tag(v1.desc, "v1");
  summary.v1 = v1.summary;

  const v2 = lay.image([layerA, layerB], "amd64", ["/extra.txt"]);
  lay.tag(v2.desc, "v2");
  summary.v2 = v2.summary;

  const children = [];
  for (const architecture of ["amd64", "arm64"]) {
    const own = layer({ [`arch-${architecture}.txt`]: `built for ${architecture}\n` });
    const child = lay.image([layerA, own], architecture, ["/hello.txt"]);
    children.push({ ...child.desc, platform: { architecture, os: "linux" } });
    summary[`multi/${architecture}`] = child.summary;
  }
  const index = { schemaVersion: 2, mediaType: MT_INDEX, manifests: children };
  const indexDesc = lay.blob(Buffer.from(JSON.stringify(index, null, 2)), MT_INDEX);
  lay.tag(indexDesc, "multi");
  summary.multi = { index: indexDesc.digest };

  await lay.write();
  return summary;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const root = process.argv[2];
  if (!root) {
    console.error("usage: node test/e2e/build-image.mjs <layout-dir>");
    process.exit(2);
  }
  console.log(JSON.stringify(await buildImage(root), null, 2));
}
