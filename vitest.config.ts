import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "bench/test/**/*.test.ts"],
    // Test files share workers: each imports effect and the chain once instead of once per file.
    isolate: false,
    testTimeout: 60_000
  }
})
