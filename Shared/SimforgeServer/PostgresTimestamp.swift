import Foundation
import NIOCore
import PostgresNIO

/// A `timestamptz` bind on the date's nearest microsecond. PostgresNIO binds a `Date` by
/// truncating its floating-point seconds, which can land a microsecond early: a status
/// date shown as `...326Z` and sent back as `after` would then not match what was stored.
public struct PostgresTimestamp: PostgresNonThrowingEncodable, Sendable {
    public let date: Date

    public init(_ date: Date) {
        self.date = date
    }

    public static var psqlType: PostgresDataType { .timestamptz }
    public static var psqlFormat: PostgresFormat { .binary }

    /// PostgreSQL counts microseconds from 2000-01-01.
    private static let epoch = Date(timeIntervalSince1970: 946_684_800)

    public func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeInteger(Int64((self.date.timeIntervalSince(Self.epoch) * 1_000_000).rounded()))
    }
}
