// Tests take free ports from the same helper the product uses (src/db/freePort.ts).
export { freePort } from '../../src/db/freePort.ts';
