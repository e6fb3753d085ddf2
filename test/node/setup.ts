// Node has no bundler to hand the decoders their precompiled WebAssembly (workerd's worker.ts does).
import { beforeAll } from "vitest";
import { initDecodersForNode } from "../../src/cli/node-decoders";

beforeAll(initDecodersForNode);
