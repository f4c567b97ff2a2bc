package dev.transferengine.efa.internal;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.DomainCapabilities;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One libfabric endpoint as an engine domain ("NIC"): its own fi_domain, CQ, AV and RDM endpoint, so several
 * may be opened on the same fi_info entry and each has its own address.
 *
 * <p>Threading: {@link ProviderDomain}'s contract, single-threaded after construction. {@link #close()} may
 * come from another thread once the owner has stopped using the domain.
 *
 * <p>Data path: every post takes a 64-byte op context from {@link OpContexts}, patches a pre-built template
 * ({@link PostTemplates}) and calls the cached function pointer; -FI_EAGAIN releases the context and returns
 * {@link #RETRY}. No allocation per post or per completion.
 */
final class LibfabricDomain implements ProviderDomain {
    private static final System.Logger LOG = System.getLogger(LibfabricDomain.class.getName());
    /** Largest write or send we announce, whatever max_msg_size says (shm and tcp say 2^64-1). */
    static final long MAX_MESSAGE_BYTES = 1L << 30;
    /** Upper bound on op contexts per domain. */
    static final int MAX_CONTEXTS = 1 << 16;

    private final LibfabricLibrary library;
    private final FiInfo info;
    private final Arena arena;
    private final FiEndpoint endpoint;
    private final DomainAddress address;
    private final DomainCapabilities capabilities;
    private final OpContexts contexts;
    private final MemoryRegistrations registrations;
    private final PeerTable peers;
    private final PostTemplates templates;
    private final StagedReceives staged;
    private final CompletionReader reader;
    /** Connection-based providers: sorts out writes flushed with a dropped connection (null elsewhere). */
    private final RefusalTriage triage;
    /** shm: this endpoint's registrations, published for same-host writers to check (null elsewhere). */
    private final KeyTable keyTable;
    /** Writes refused before posting by a peer's key table, reported at the next poll. */
    private final WriterRefusals refusals = new WriterRefusals();
    private final Runnable onClose;
    /** Whether the fi_info entry grants FI_HMEM: only then is device memory registration tried. */
    private final boolean hmem;
    /** Whether the native close waits for the process's other endpoints ({@link RetiredEndpoints}). */
    private final boolean retire;
    /** shm on libfabric 1.17: releases locks that dead peers left taken (null elsewhere). */
    private final ShmLockSentinel sentinel;
    /** The sentinel generation whose dead peers' responses were last answered (worker only). */
    private int repairedGeneration;
    private volatile boolean closed;

    LibfabricDomain(LibfabricLibrary library, MemorySegment fabric, FiInfo info, LibfabricSettings settings,
                    Runnable onClose) {
        this.library = library;
        this.info = info;
        this.onClose = onClose;
        this.arena = Arena.ofShared();
        FiEndpoint ep = null;
        MemoryRegistrations regs = null;
        KeyTable keys = null;
        try {
            boolean stagedMode = settings.forceEfaPaths() || info.hasMode(FiConst.Mode.FI_RX_CQ_DATA);
            int queueDepth = (int) Math.min(Math.max(info.txSize(), 64) + Math.max(info.rxSize(), 64), MAX_CONTEXTS / 2);
            ep = new FiEndpoint(library, fabric, info, queueDepth);
            this.endpoint = ep;
            this.address = DomainAddress.of(ep.address);
            boolean checkKeys = settings.keyTable(info.providerName(), info.hasMrMode(FiConst.MrMode.FI_MR_PROV_KEY));
            keys = checkKeys ? KeyTable.create(ep.address) : null;
            this.keyTable = keys;
            int stagedCount = stagedMode ? settings.stagedReceives() : 0;
            this.contexts = new OpContexts(arena, Math.min(queueDepth + stagedCount, MAX_CONTEXTS));
            // Keys are always read back with fi_mr_key; only whether we request our own depends on PROV_KEY.
            regs = new MemoryRegistrations(library, ep, info.hasMrMode(FiConst.MrMode.FI_MR_VIRT_ADDR),
                    info.hasMrMode(FiConst.MrMode.FI_MR_PROV_KEY),
                    settings.hmemDeviceOnly() ? FiConst.Cap.FI_HMEM_DEVICE_ONLY : 0, keys);
            this.registrations = regs;
            long retryTimeoutNanos = settings.retryTimeoutMillis() * 1_000_000L;
            this.peers = new PeerTable(library, ep, info.addrFormat(), retryTimeoutNanos, checkKeys ? arena : null);
            long completion = FiConst.Flag.FI_COMPLETION
                    | (settings.deliveryCompleteFor(info.providerName()) ? FiConst.Flag.FI_DELIVERY_COMPLETE : 0);
            boolean markImmless = settings.markImmlessWrites(info.providerName(), info.cqDataSize());
            this.templates = new PostTemplates(arena, ep, completion, markImmless);
            this.staged = stagedMode ? new StagedReceives(arena, regs, templates, contexts, stagedCount,
                    settings.stagedReceiveBytes(), Math.max(64, (int) Math.min(info.rxSize(), 4096))) : null;
            NotConnectedRetries retries = LibfabricSettings.socketBased(info.providerName())
                    ? new NotConnectedRetries(library, contexts, templates, peers, retryTimeoutNanos) : null;
            this.triage = retries == null ? null
                    : new RefusalTriage(library, contexts, templates, peers, retries, retryTimeoutNanos);
            if (retries != null) {
                retries.triage(triage);
            }
            this.reader = new CompletionReader(arena, library, ep, contexts, staged, retries, triage, refusals,
                    FiErrors.provErrnoIsErrno(info.providerName()));
            // FI_HMEM granted: registerDevice may be tried (it may still find at run time that this libfabric
            // cannot register CUDA memory, e.g. Debian's shm without CUDA, and then reports UNAVAILABLE).
            this.hmem = (info.caps() & FiConst.Cap.FI_HMEM) != 0;
            this.capabilities = new DomainCapabilities(maxMessageBytes(info), info.cqDataSize() >= 4, !hmem,
                    info.linkSpeed());
            this.retire = RetiredEndpoints.applies(info.providerName());
            if (retire) {
                RetiredEndpoints.opened(RetiredEndpoints.shmFileOf(ep.address));
            }
            this.sentinel = settings.deadPeerRecovery(info.providerName(), library.version())
                    ? ShmLockSentinel.start(RetiredEndpoints.shmFileOf(ep.address), ShmLockSentinel.DEFAULT_HOLD_NANOS)
                    : null;
            if (sentinel != null) {
                reader.deadPeerOf(this::deadPeerOf);
            }
        } catch (RuntimeException | Error e) {
            if (keys != null) {
                keys.close();
            }
            if (ep != null) {
                ep.closeEndpoint();
            }
            if (regs != null) {
                regs.closeAll();
            }
            if (ep != null) {
                ep.close();
            }
            arena.close();
            throw e;
        }
    }

    private static long maxMessageBytes(FiInfo info) {
        long m = info.maxMsgSize();
        return m <= 0 || m > MAX_MESSAGE_BYTES ? MAX_MESSAGE_BYTES : m;
    }

    @Override
    public DomainAddress address() {
        return address;
    }

    @Override
    public DomainCapabilities capabilities() {
        return capabilities;
    }

    @Override
    public RegisteredMemory register(MemorySegment segment, boolean remoteWrite) {
        requireOpen();
        return registrations.register(segment, remoteWrite);
    }

    /**
     * {@code fi_mr_regattr} with {@code FI_HMEM_CUDA}; see {@link MemoryRegistrations#registerDevice}. The result is
     * used by posts like host memory: its {@code fi_mr_desc} goes with every write from it (FI_MR_LOCAL and HMEM
     * providers require it), its key and remote base go to peers.
     */
    @Override
    public RegisteredMemory registerDevice(DeviceMemory memory, boolean remoteWrite) {
        requireOpen();
        return registrations.registerDevice(memory, remoteWrite, hmem, info.providerName());
    }

    @Override
    public void deregister(RegisteredMemory memory) {
        if (closed) {
            return; // closing released every registration already
        }
        registrations.deregister(memory);
    }

    @Override
    public long resolvePeer(DomainAddress peer) {
        requireOpen();
        if (peer == null) {
            throw new InvalidRequestException("peer address is null");
        }
        int before = peers.count();
        long handle = peers.resolve(peer);
        if (sentinel != null && peers.count() != before) {
            sentinel.watch(peer.bytes()); // now: a peer may die before the sentinel's next pass, its file unlinked
        }
        return handle;
    }

    @Override
    public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                         long remoteKey, boolean withImm, int imm, long context) {
        requireOpen();
        long descriptor = 0;
        if (length < 0 || length > capabilities.maxMessageBytes()) {
            throw new InvalidRequestException("write length " + length + " outside 0.." + capabilities.maxMessageBytes());
        }
        if (length > 0) {
            descriptor = localDescriptor(src, srcAddress, length);
        }
        int peerIndex = peers.index(peer);
        if (triage != null && triage.holds(peerIndex)) {
            return RETRY_PEER; // the peer's dropped connection is being sorted out (RefusalTriage)
        }
        peers.requireLiveProcess(peerIndex); // shm: never post to a dead process (PeerProcesses)
        if (length > 0) { // zero-length writes carry only an imm: RDMA checks no key for them either
            TransferException refused = peers.refusedWrite(peerIndex, remoteKey, remoteAddress, length);
            if (refused != null) {
                refusals.refuse(context, refused); // shm would drop it at the target and tell no one
                return POSTED;
            }
        }
        int slot = contexts.acquire(OpContexts.WRITE, context);
        if (slot < 0) {
            return RETRY;
        }
        contexts.recordWrite(slot, peerIndex, srcAddress, length, descriptor, remoteAddress, remoteKey, withImm, imm);
        long rc = templates.write(peers.fiAddr(peerIndex), srcAddress, length, descriptor, remoteAddress, remoteKey,
                withImm, imm, contexts.address(slot));
        return posted(slot, rc, "fi_writemsg", peerIndex);
    }

    @Override
    public int postSend(long peer, RegisteredMemory src, long address, long length, long context) {
        requireOpen();
        if (length < 0 || length > capabilities.maxMessageBytes()) {
            throw new InvalidRequestException("send length " + length + " outside 0.." + capabilities.maxMessageBytes());
        }
        long descriptor = length == 0 && src == null ? 0 : localDescriptor(src, address, length);
        int peerIndex = peers.index(peer);
        if (triage != null && triage.holds(peerIndex)) {
            return RETRY_PEER;
        }
        peers.requireLiveProcess(peerIndex);
        int slot = contexts.acquire(OpContexts.SEND, context);
        if (slot < 0) {
            return RETRY;
        }
        contexts.recordSend(slot, peerIndex, address, length, descriptor);
        long rc = templates.send(peers.fiAddr(peerIndex), address, length, descriptor, contexts.address(slot));
        return posted(slot, rc, "fi_sendmsg", peerIndex);
    }

    @Override
    public int postReceive(RegisteredMemory dst, long address, long length, long context) {
        requireOpen();
        if (length < 0) {
            throw new InvalidRequestException("receive length " + length + " is negative");
        }
        long descriptor = localDescriptor(dst, address, length);
        if (staged != null && registrations.isDevice(dst)) {
            // Staged receives copy the message into the engine's buffer from Java: impossible for device memory.
            throw new TransferException(ErrorCategory.UNAVAILABLE, "receives into device memory are not supported"
                    + " with staged receives (FI_RX_CQ_DATA): post the receive into host memory");
        }
        if (staged != null) {
            return staged.enqueue(address, length, context) ? POSTED : RETRY;
        }
        int slot = contexts.acquire(OpContexts.RECEIVE, context);
        if (slot < 0) {
            return RETRY;
        }
        long rc = templates.receive(address, length, descriptor, contexts.address(slot));
        return posted(slot, rc, "fi_recvmsg", -1);
    }

    private int posted(int slot, long rc, String call, int peerIndex) {
        if (rc == 0) {
            contexts.posted(slot);
            if (peerIndex >= 0) {
                peers.accepted(peerIndex);
            }
            return POSTED;
        }
        contexts.release(slot);
        if (rc == -FiConst.Err.FI_EAGAIN) {
            if (peerIndex >= 0) {
                peers.refused(peerIndex); // throws PEER_UNREACHABLE once the refusals last too long
            }
            return RETRY;
        }
        throw FiErrors.callFailed(library, call, rc);
    }

    private long localDescriptor(RegisteredMemory memory, long start, long length) {
        LibfabricMemory m = registrations.ours(memory);
        if (m == null) {
            throw new InvalidRequestException("memory " + memory + " is not a live registration of this domain");
        }
        if (!m.contains(start, length)) {
            throw new InvalidRequestException("range 0x" + Long.toHexString(start) + "+" + length
                    + " is outside " + m);
        }
        return m.descriptor();
    }

    /** Use after close would call through freed native objects: fail loudly instead. */
    private void requireOpen() {
        if (closed) {
            throw new ClosedException(this + " is closed");
        }
    }

    @Override
    public int poll(CompletionSink sink, int maxEntries) {
        requireOpen();
        registrations.deregisterFreed(); // before progress can receive a peer's write into freed memory
        peers.polled();
        if (sentinel != null && sentinel.generation() != repairedGeneration) {
            answerDeadPeersResponses();
        }
        return reader.poll(sink, maxEntries);
    }

    /**
     * shm: a peer found dead will never answer the writes over 4 KiB (and sends) it was given, and shm completes
     * those in one FIFO per endpoint, so they would hold every later one behind them. Answers them for it
     * ({@code -FI_EHOSTUNREACH}: they fail PEER_UNREACHABLE at the next read of the completion queue).
     */
    private void answerDeadPeersResponses() {
        repairedGeneration = sentinel.generation();
        int answered = sentinel.own().failPendingResponses(this::postedToDeadPeer, -FiConst.Err.FI_EHOSTUNREACH);
        if (answered > 0) {
            LOG.log(System.Logger.Level.WARNING, answered + " transfers of " + this + " to peer processes found dead"
                    + " were waiting for their answers; failing them (PEER_UNREACHABLE)");
        }
    }

    /** The peer of {@code slot} as "peer ADDRESS (pid N)" when its process was found dead, else null. */
    private String deadPeerOf(int slot) {
        int peer = contexts.peer(slot);
        int pid = peer < peers.count() ? peers.pid(peer) : 0;
        return pid != 0 && sentinel.isDead(pid) ? "peer " + peers.address(peer) + " (pid " + pid + ")" : null;
    }

    private boolean postedToDeadPeer(long opContext) {
        int slot = contexts.slotOf(opContext);
        if (slot < 0 || !contexts.inFlight(slot)) {
            return false;
        }
        byte kind = contexts.kind(slot);
        if (kind != OpContexts.WRITE && kind != OpContexts.SEND) {
            return false;
        }
        int pid = peers.pid(contexts.peer(slot));
        return pid != 0 && sentinel.isDead(pid);
    }

    FiInfo info() {
        return info;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            if (sentinel != null) {
                sentinel.close();
            }
            if (keyTable != null) {
                keyTable.close(); // writers refuse this endpoint from now on, before its registrations go
            }
            if (retire) {
                RetiredEndpoints.closed(this::closeNative, RetiredEndpoints.shmFileOf(endpoint.address));
            } else {
                closeNative();
            }
        } finally {
            onClose.run();
        }
    }

    private void closeNative() {
        try {
            endpoint.closeEndpoint();
            registrations.closeAll();
            endpoint.close();
        } finally {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "LibfabricDomain[" + info.providerName() + " " + info.domainName() + " " + address + "]";
    }
}
