// `node:test` for vitest (in Node, workerd and Chromium; aliased in each core-* project):
// the core tests import only describe/it/before/after/beforeEach/afterEach from node:test.
export {
  afterAll as after,
  afterEach,
  beforeAll as before,
  beforeEach,
  describe,
  it,
  it as test,
} from "vitest";
