// `prepublishOnly`: a published package names where it lives. package.json's `repository`,
// `homepage` and `bugs` must point at the public repository before `npm publish` goes ahead;
// this repository does not know that address, and a guessed one could send users to a stranger's
// project, so they are left unset and this check stops the publish until someone sets them:
//   npm pkg set repository.type=git repository.url=git+https://<host>/<owner>/<repo>.git \
//     homepage=https://<host>/<owner>/<repo>#readme bugs.url=https://<host>/<owner>/<repo>/issues
// Usage: node scripts/publish-check.mjs [package.json]
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? "package.json";
const pkg = JSON.parse(readFileSync(file, "utf8"));
/** The `https://host/owner/repo` an address points into, or undefined. */
function repositoryOf(address) {
  if (typeof address !== "string") return undefined;
  const match = /^(?:git\+)?(https:\/\/[^/\s]+\/[^/\s]+\/[^/\s#]+?)(?:\.git)?(?:[/#].*)?$/.exec(
    address,
  );
  return match?.[1];
}
const places = {
  "repository.url": repositoryOf(pkg.repository?.url),
  homepage: repositoryOf(pkg.homepage),
  "bugs.url": repositoryOf(pkg.bugs?.url),
};
const missing = Object.entries(places)
  .filter(([, place]) => place === undefined)
  .map(([key]) => key);
const distinct = new Set(Object.values(places).filter(Boolean));
if (missing.length > 0 || distinct.size > 1) {
  const why =
    missing.length > 0
      ? `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not an https address of the public repository`
      : `repository.url, homepage and bugs.url name different repositories (${[...distinct].join(", ")})`;
  console.error(
    `publish-check: ${file}: ${why}. Set them before publishing, e.g.\n` +
      "  npm pkg set repository.type=git repository.url=git+https://<host>/<owner>/<repo>.git " +
      "homepage=https://<host>/<owner>/<repo>#readme bugs.url=https://<host>/<owner>/<repo>/issues",
  );
  process.exit(1);
}
console.log(`publish-check: ${file} names ${[...distinct][0]}`);
