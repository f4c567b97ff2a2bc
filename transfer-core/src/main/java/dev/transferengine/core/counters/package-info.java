/**
 * Engine counters ({@link dev.transferengine.api.EngineCounters}) in one block of memory, optionally a
 * memory-mapped file another process reads ({@code te stat}). See {@code docs/operations.md}, "Counters".
 */
package dev.transferengine.core.counters;
