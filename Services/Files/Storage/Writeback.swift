import CSimforgeFiles
import NIOFileSystem

/// Starts the disk writing of what a handle wrote, stretch by stretch, while the rest of
/// the file still arrives (as PostgreSQL's `*_flush_after` settings do): the final fsync
/// then has little left, so a durable upload takes about as long as the slower of network
/// and disk, not their sum. Durability still comes from that fsync alone.
struct Writeback {
    /// Bytes written before their writeback starts.
    static let stride: Int64 = 8 << 20
    private var start: Int64

    /// - Parameter offset: where the handle's writes begin.
    init(from offset: Int64) {
        self.start = offset
    }

    /// The handle has written everything before `end`: starts writeback of a whole stretch.
    mutating func wrote(upTo end: Int64, on handle: some FileHandleProtocol) async {
        guard end - self.start >= Self.stride else { return }
        let (offset, length) = (self.start, end - self.start)
        self.start = end
        // Only an early start of what fsync does anyway: a failure here changes nothing.
        _ = try? await handle.withUnsafeDescriptor { descriptor in
            simforge_start_writeback(descriptor.rawValue, offset, length)
        }
    }
}
