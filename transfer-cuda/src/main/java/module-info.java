/**
 * The CUDA driver API over FFM: devices, primary contexts, device and pinned host memory, streams and
 * events, pointer attributes, IPC handles, dma-buf export, stream memory operations, and the engine's
 * {@link dev.transferengine.spi.DeviceBackend}. {@code libcuda.so.1} is loaded lazily; where it is missing
 * everything reports unavailable with the cause.
 */
module dev.transferengine.cuda {
    requires transitive dev.transferengine.api;

    exports dev.transferengine.cuda;

    provides dev.transferengine.spi.DeviceBackend with dev.transferengine.cuda.CudaDeviceBackend;
}
