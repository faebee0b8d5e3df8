// The benchmark's input: the raw bodies distribution 2.8.2 sent (`NNN-*.json`), as bytes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { distributionFixtureNames } from "../test/fixtures/paths.mjs";

export interface Fixture {
  name: string;
  bytes: Uint8Array;
}

export function loadFixtures(dir: string): Fixture[] {
  let names: string[];
  try {
    names = distributionFixtureNames(dir);
  } catch (error) {
    throw new Error(
      `bench: cannot read the fixtures in ${dir} (set --fixtures=<dir>): ${(error as Error).message}`,
    );
  }
  if (names.length === 0) throw new Error(`bench: no NNN-*.json fixture in ${dir}`);
  return names.map((name) => {
    const file = readFileSync(join(dir, name));
    // A standalone copy: a Buffer from readFileSync may be a view into a shared pool.
    return { name, bytes: new Uint8Array(file) };
  });
}

export const totalBytes = (fixtures: readonly { bytes: Uint8Array }[]): number =>
  fixtures.reduce((sum, fixture) => sum + fixture.bytes.byteLength, 0);
