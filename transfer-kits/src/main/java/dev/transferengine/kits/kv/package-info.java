/**
 * KV-cache hand-off for disaggregated prefill/decode. The decoder ({@link dev.transferengine.kits.kv.KvDecoder})
 * allocates pages, registers the imm count the hand-off produces on every tensor-parallel rank and SENDs the
 * request; each prefiller rank ({@link dev.transferengine.kits.kv.KvPrefiller}) writes every layer's pages with
 * paged writes as the layer finishes ({@link dev.transferengine.kits.kv.KvPrefillJob#layerDone}) and the context
 * with one single write; the decoder learns completion only by counting imms
 * ({@link dev.transferengine.kits.kv.KvTransfer}). Caches are HND ({@link dev.transferengine.kits.kv.KvCache});
 * GQA heads are selected by page offset and stride ({@link dev.transferengine.kits.kv.KvSchedule}). Cancellation
 * is confirmed by the prefiller before pages are reused; a heartbeat finds a dead prefiller. See
 * {@code docs/workloads.md}.
 */
package dev.transferengine.kits.kv;
