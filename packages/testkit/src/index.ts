export * as ChainGenerator from "./ChainGenerator.ts"
