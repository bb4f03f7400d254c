/**
 * RLPx, the devp2p transport: node keys and enode URLs, the ECIES handshake (plain and EIP-8),
 * encrypted frames, the p2p base protocol, and Effect-scoped `dial` and `listen` over
 * `node:net` sockets.
 *
 * @since 0.2.0
 */
export * as Capability from "./Capability.ts"
export * as Connection from "./Connection.ts"
export * from "./ConnectionError.ts"
export * from "./Dial.ts"
export * from "./DisconnectReason.ts"
export * as Enode from "./Enode.ts"
export * from "./Listen.ts"
export * as NodeKey from "./NodeKey.ts"
export * as NodeKeyFile from "./NodeKeyFile.ts"
export * as P2pMessage from "./P2pMessage.ts"
export * as StaticNodes from "./StaticNodes.ts"
