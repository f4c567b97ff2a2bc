package dev.transferengine.spi;

import dev.transferengine.api.DomainAddress;

import java.lang.foreign.MemorySegment;

/**
 * One NIC endpoint with its completion queue. <b>Single-threaded:</b> after {@link ProviderFabric#openDomain}
 * returns, every method is called from the owning worker thread only, so implementations need no locks;
 * the exceptions are {@link #address()} and {@link #capabilities()}, which must return immutable values and
 * may be called from any thread.
 *
 * <p>Posting is non-blocking: a full queue returns {@link #RETRY}; the engine then polls completions
 * and retries. A refusal that concerns one peer only (its connection is being set up or sorted out, its own send
 * queue is full) returns {@link #RETRY_PEER}, so the engine keeps posting to the others. Errors a post can detect
 * synchronously are thrown as {@link dev.transferengine.api.TransferException}; errors found later arrive through
 * {@link CompletionSink#onError}. Every post reports exactly one completion or error for its context
 * (or throws, or returns RETRY or RETRY_PEER, in which case nothing was posted).
 *
 * <p>Contexts are opaque longs chosen by the engine (pool indices with a generation), never pointers.
 */
public interface ProviderDomain extends AutoCloseable {
    /** The post was accepted. */
    int POSTED = 0;
    /** The queue is full: poll completions and post again. Nothing was posted. */
    int RETRY = 1;
    /**
     * This peer can take nothing now, other peers can: poll completions and post to it again; meanwhile posts to
     * other peers go ahead. Nothing was posted. A provider that cannot tell answers {@link #RETRY}: one peer's
     * trouble must not stop the others' writes (issue 9: a dead peer's writes held a live peer's behind them).
     */
    int RETRY_PEER = 2;

    /** This endpoint's address, given to peers. */
    DomainAddress address();

    /** What this domain supports. */
    DomainCapabilities capabilities();

    /** Registers {@code segment} (native, non-empty) for local use and, if asked, remote writes. */
    RegisteredMemory register(MemorySegment segment, boolean remoteWrite);

    /**
     * Registers device (GPU) memory so the NIC reads and writes it directly (libfabric {@code FI_HMEM},
     * verbs dma-buf). Called only when {@link DomainCapabilities#hostMemoryOnly()} is false. A provider that
     * finds at run time that it cannot (a libfabric built without CUDA answers {@code FI_ENOSYS}) throws a
     * {@link dev.transferengine.api.TransferException} with category
     * {@link dev.transferengine.api.ErrorCategory#UNAVAILABLE}; the engine then stages the region through
     * pinned host memory instead. Released with {@link #deregister} like host registrations.
     */
    default RegisteredMemory registerDevice(DeviceMemory memory, boolean remoteWrite) {
        throw new dev.transferengine.api.TransferException(dev.transferengine.api.ErrorCategory.UNAVAILABLE,
                getClass().getSimpleName() + " cannot register device memory");
    }

    /** Releases a registration of this domain. Idempotent per registration. */
    void deregister(RegisteredMemory memory);

    /**
     * Resolves a peer's address to a handle for posts (libfabric: {@code fi_av_insert}; verbs: a queue pair,
     * possibly still connecting, in which case posts return {@link #RETRY_PEER} until it is up). Cached by the
     * provider: resolving the same address twice returns the same handle.
     */
    long resolvePeer(DomainAddress peer);

    /**
     * Posts one RDMA WRITE of {@code length} bytes from {@code srcAddress} (inside {@code src}) to
     * {@code remoteAddress} under {@code remoteKey}; with {@code withImm}, the peer's completion queue reports
     * {@code imm}. A zero-length write needs no source ({@code src} may be null) and still carries the imm.
     *
     * @return {@link #POSTED}, {@link #RETRY} or {@link #RETRY_PEER}
     */
    int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                  long remoteKey, boolean withImm, int imm, long context);

    /** Posts a SEND of {@code length} bytes at {@code address} to {@code peer}; returns like {@link #postWrite}. */
    int postSend(long peer, RegisteredMemory src, long address, long length, long context);

    /** Posts a receive buffer. */
    int postReceive(RegisteredMemory dst, long address, long length, long context);

    /**
     * Reads up to {@code maxEntries} completions into {@code sink} and drives the provider's progress.
     *
     * @return the number of completions delivered; at least 1 while the domain has work in progress that only
     *         polling advances (device copies in flight), so the worker keeps polling instead of parking
     */
    int poll(CompletionSink sink, int maxEntries);

    /**
     * Gives the domain a way to wake its worker. Called once by the engine, before any other use. A
     * provider that learns of new work for this domain on another thread (the loopback provider, when a
     * peer queues an imm or a receive for it) may run {@code wakeup}; it is thread-safe, cheap when the
     * worker is awake, and never blocks. Providers whose completions arrive from hardware ignore it.
     */
    default void setWakeup(Runnable wakeup) {
    }

    /** Frees the endpoint, its queues and any registrations left. Idempotent. */
    @Override
    void close();
}
