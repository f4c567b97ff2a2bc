/**
 * JDK Flight Recorder events of the engine ({@code docs/operations.md}, "JFR events"): transfers,
 * registrations, peer connections and errors, in the category "TransferEngine".
 */
package dev.transferengine.core.jfr;
