#if canImport(Glibc)
import Glibc
#endif

/// glibc serves allocations of 128 KiB and more with a fresh `mmap` and returns them with
/// `munmap`: every large buffer then costs page faults and zeroing on each use. The
/// streaming paths allocate such buffers per megabyte moved (sealed output, file reads),
/// which showed up in `perf` as kernel page-fault and page-copy time. Keeping them in the
/// heap instead reuses the same pages. Call once at process start.
public enum AllocatorTuning {
    public static func keepLargeBuffersInHeap() {
        #if canImport(Glibc)
        // mallopt(3) is not exported by the Glibc module; look it up in the C library.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 32 * 1024 * 1024)
        _ = mallopt(trimThreshold, 64 * 1024 * 1024)
        #endif
    }
}
