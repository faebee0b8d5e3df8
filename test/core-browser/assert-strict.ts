// `node:assert/strict` in the browser: the npm `assert` package (Node's assert, ported).
import assert from "assert";

export default assert.strict;
