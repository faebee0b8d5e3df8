// `node:test` for runners that lack it (vitest in Node and workerd, the browser bundle):
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
