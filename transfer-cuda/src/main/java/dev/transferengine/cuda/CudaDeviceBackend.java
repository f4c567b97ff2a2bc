package dev.transferengine.cuda;

/** Placeholder; the transfer-cuda work replaces it. */
public final class CudaDeviceBackend {
}
