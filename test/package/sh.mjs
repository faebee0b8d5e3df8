// Running a command in the package tests: its output in the assertion when it fails.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { repoRoot } from "../support/relay-process.mjs";

export const exec = promisify(execFile);

/**
 * Runs a command (no shell); on failure the assertion shows its output.
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string>, timeout?: number }} [options]
 */
export async function sh(command, args, { cwd = repoRoot, env = {}, timeout = 90_000 } = {}) {
  try {
    return await exec(command, args, {
      cwd,
      timeout,
      maxBuffer: 32 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env },
    });
  } catch (error) {
    assert.fail(
      `${command} ${args.join(" ")} failed (${error.code ?? error.signal}):\n${error.stdout}\n${error.stderr}`,
    );
  }
}
