package dev.transferengine.core.loopback;

import java.lang.foreign.MemorySegment;

/**
 * Carries out one posted operation against its target domain, on the writer's worker thread: what a NIC
 * does between the post and the completion. A WRITE is checked against the target's registration (key,
 * remote-write permission, bounds), copied with one {@link MemorySegment#copy}, and then its imm, if any,
 * is queued on the target; a SEND takes the target's oldest posted receive and copies into it. Nothing is
 * written unless every check passed. Owned by one worker thread (it reuses a scratch array).
 */
final class OperationApplier {
    private final PeerTable peers;
    private final long failEveryNth;
    private final long[] receive = new long[EventQueue.ENTRY_LONGS];
    private final DeviceCopies deviceCopies;
    private final boolean unkeyedZeroLength;
    private final boolean silentPeers;

    OperationApplier(PeerTable peers, long failEveryNth, DeviceCopies deviceCopies, boolean unkeyedZeroLength,
                     boolean silentPeers) {
        this.silentPeers = silentPeers;
        this.peers = peers;
        this.failEveryNth = failEveryNth;
        this.deviceCopies = deviceCopies;
        this.unkeyedZeroLength = unkeyedZeroLength;
    }

    /** Called at the start of each poll of the owning domain. */
    void newPoll() {
        deviceCopies.newPoll();
    }

    /** Called at the end of each poll: copies held for merging go out. */
    void endPoll() {
        deviceCopies.endPoll();
    }

    /**
     * Advances {@code op}; true when it has an outcome (success, or {@link Operation#error}) and its local
     * completion may be delivered, false when it must be tried again on a later poll.
     */
    boolean apply(Operation op) {
        if (!op.applied) {
            if (!applyToTarget(op)) {
                return false;
            }
            op.applied = true;
        }
        if (op.noticeKind == Inbound.NONE) {
            return true;
        }
        LoopbackDomain target = peers.target(op.peer);
        if (target == null) {
            if (silentPeers) {
                op.silent = true; // the notice goes nowhere and nobody answers
            } else if (op.error == null) {
                op.error = LoopbackErrors.peerUnreachable(peers.id(op.peer), op);
            }
            return true;
        }
        // Publishing the notice is the release that makes the copied bytes visible to the target.
        return target.inbound().offer(op.noticeKind, op.noticeA, op.noticeB, op.noticeC);
    }

    /** False only when a SEND finds no receive posted (kept pending, like an RC receiver-not-ready retry). */
    private boolean applyToTarget(Operation op) {
        if (op.copyQueue != null) {
            return finishDeviceCopy(op);
        }
        if (op.injectFailure) {
            op.error = LoopbackErrors.injected(failEveryNth, op.writeOrdinal);
            return true;
        }
        LoopbackDomain target = peers.target(op.peer);
        if (target == null) {
            if (silentPeers) {
                op.silent = true;
            } else {
                op.error = LoopbackErrors.peerUnreachable(peers.id(op.peer), op);
            }
            return true;
        }
        if (op.kind == Operation.WRITE) {
            return write(op, target);
        }
        return send(op, target);
    }

    /** False while a device copy for the write is in flight (tried again on a later poll). */
    private boolean write(Operation op, LoopbackDomain target) {
        long peerId = target.id();
        if (op.length == 0 && unkeyedZeroLength) {
            if (op.withImm) {
                op.notice(Inbound.IMM, op.imm, 0, 0); // like an InfiniBand responder: no key check, nothing to write
            }
            return true;
        }
        LoopbackRegistration destination = target.registrations().lookup(op.remoteKey);
        if (destination == null) {
            op.error = LoopbackErrors.unknownKey(peerId, op.remoteKey);
        } else if (!destination.remoteWrite()) {
            op.error = LoopbackErrors.notRemotelyWritable(peerId, destination);
        } else if (!destination.contains(op.remoteAddress, op.length)) {
            op.error = LoopbackErrors.outOfBounds(peerId, op.remoteAddress, op.length, destination);
        } else if (op.length > 0 && (destination.device() != null || op.source.device() != null)) {
            return startDeviceCopy(op, destination);
        } else if (copy(op, destination, op.remoteAddress, peerId) && op.withImm) {
            op.notice(Inbound.IMM, op.imm, 0, 0);
        }
        return true;
    }

    /**
     * Queues the copy on the source device's copy queue (the destination's when the source is host memory).
     * Every check passed already; the imm is published by {@link #finishDeviceCopy} once the copy's event
     * completed, so a receiver that counted the imm sees the bytes.
     */
    private boolean startDeviceCopy(Operation op, LoopbackRegistration destination) {
        var device = op.source.device() != null ? op.source.device() : destination.device();
        if (!op.source.isAlive() || !destination.isAlive()) {
            op.error = op.source.isAlive() ? LoopbackErrors.targetFreed(destination.owner().id(), destination, null)
                    : LoopbackErrors.sourceFreed(op.source, null);
            return true;
        }
        try {
            var queue = deviceCopies.queue(device.backend(), device.ordinal());
            long ticket = queue.copy(op.remoteAddress, op.sourceAddress, op.length, op.source, destination,
                    onDevice(op.source, destination, device));
            if (ticket == dev.transferengine.spi.DeviceCopyQueue.FULL) {
                return false; // the queue has room again once earlier copies finish
            }
            op.copyQueue = queue;
            op.copyTicket = ticket;
            return false;
        } catch (dev.transferengine.api.TransferException e) {
            op.error = e;
            return true;
        }
    }

    /**
     * Whether both sides are memory of the device whose queue runs the copy (then it may run as a kernel). Engines
     * of one process each load their own backend instance: the same kind of backend and ordinal is the same device.
     */
    private static boolean onDevice(LoopbackRegistration source, LoopbackRegistration destination,
                                    dev.transferengine.spi.DeviceMemory device) {
        var s = source.device();
        var d = destination.device();
        return s != null && d != null && s.backend().getClass() == d.backend().getClass()
                && s.ordinal() == device.ordinal() && d.ordinal() == device.ordinal();
    }

    private boolean finishDeviceCopy(Operation op) {
        try {
            if (!deviceCopies.isDone(op.copyQueue, op.copyTicket)) {
                return false;
            }
            if (op.withImm) {
                op.notice(Inbound.IMM, op.imm, 0, 0);
            }
        } catch (dev.transferengine.api.TransferException e) {
            op.error = e;
        }
        op.copyQueue = null;
        op.copyTicket = 0;
        return true;
    }

    private boolean send(Operation op, LoopbackDomain target) {
        if (op.length > 0 && !op.source.isAlive()) {
            op.error = LoopbackErrors.sourceFreed(op.source, null); // fail before consuming a receive
            return true;
        }
        if (!target.receives().poll(receive, 0)) {
            return false;
        }
        long receiveContext = receive[0];
        long bufferKey = receive[1];
        long bufferAddress = receive[2];
        long bufferBytes = receive[3];
        LoopbackRegistration destination = target.registrations().lookup(bufferKey);
        if (destination == null || !destination.contains(bufferAddress, bufferBytes)) {
            op.error = LoopbackErrors.sendBufferGone(target.id(), bufferKey);
            op.notice(Inbound.RECEIVE_BUFFER_GONE, receiveContext, bufferKey, 0);
        } else if (op.length > bufferBytes) {
            op.error = LoopbackErrors.sendTooLong(target.id(), op.length, bufferBytes);
            op.notice(Inbound.RECEIVE_TOO_SMALL, receiveContext, op.length, bufferBytes);
        } else if (copy(op, destination, bufferAddress, target.id())) {
            op.notice(Inbound.RECEIVED, receiveContext, op.length, 0);
        } else {
            op.notice(Inbound.RECEIVE_BUFFER_GONE, receiveContext, bufferKey, 0);
        }
        return true;
    }

    /** Copies the payload; on failure records the error on {@code op} and returns false. */
    private static boolean copy(Operation op, LoopbackRegistration destination, long destinationAddress,
                                long peerId) {
        if (op.length == 0) {
            return true;
        }
        LoopbackRegistration source = op.source;
        if (!source.isAlive()) {
            op.error = LoopbackErrors.sourceFreed(source, null);
            return false;
        }
        if (!destination.isAlive()) {
            op.error = LoopbackErrors.targetFreed(peerId, destination, null);
            return false;
        }
        try {
            MemorySegment.copy(source.view(), op.sourceAddress - source.address(),
                    destination.view(), destinationAddress - destination.address(), op.length);
            return true;
        } catch (IllegalStateException freedMeanwhile) {
            // A shared arena closed during the copy: the JDK stopped it safely.
            op.error = source.isAlive()
                    ? LoopbackErrors.targetFreed(peerId, destination, freedMeanwhile)
                    : LoopbackErrors.sourceFreed(source, freedMeanwhile);
            return false;
        }
    }
}
