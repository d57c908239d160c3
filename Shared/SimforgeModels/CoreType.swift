import Foundation

/// A hardware type jobs run on (API.md "Objects"): every key of the Rescale docs' core type,
/// plus `isActive`.
public struct CoreType: Codable, Sendable, Equatable {
    public var code: String
    public var name: String
    public var description: String
    public var displayOrder: Int
    /// `false` once the core type was removed from the catalog file: new jobs are refused.
    public var isActive: Bool
    public var isDeprecated: Bool
    /// Whether this is the primary (default) core type.
    public var isPrimary: Bool
    /// Valid node sizes in cores.
    public var cores: [Int]
    /// Memory per core, in MB.
    public var memory: Int
    /// Storage per core, in GB.
    public var storage: Int
    /// Whether the nodes' local storage is on SSDs.
    public var hasSsd: Bool
    /// The local storage's bandwidth, e.g. `2 GB/s read, 1 GB/s write`.
    public var storageIo: String
    /// The network's class, e.g. `Standard` or `100 Gb/s`.
    public var io: String
    /// Relative compute speed of one core, a decimal text (`"1.00"` for the reference core).
    public var compute: String
    /// Price per core-hour: a JSON number, as the docs show it.
    public var price: Decimal
    /// Price per core-hour of a low-priority job, a decimal text (as the docs show it).
    public var lowPriorityPrice: String
    public var processorInfo: String
    public var walltimeRequired: Bool
    /// Whether remote visualization nodes may use it.
    public var remoteVizAllowed: Bool

    public init(
        code: String,
        name: String,
        description: String,
        displayOrder: Int,
        isActive: Bool,
        isDeprecated: Bool,
        isPrimary: Bool = false,
        cores: [Int],
        memory: Int,
        storage: Int,
        hasSsd: Bool = false,
        storageIo: String = "",
        io: String = "",
        compute: String = "",
        price: Decimal,
        lowPriorityPrice: String = "",
        processorInfo: String,
        walltimeRequired: Bool,
        remoteVizAllowed: Bool = false
    ) {
        self.code = code
        self.name = name
        self.description = description
        self.displayOrder = displayOrder
        self.isActive = isActive
        self.isDeprecated = isDeprecated
        self.isPrimary = isPrimary
        self.cores = cores
        self.memory = memory
        self.storage = storage
        self.hasSsd = hasSsd
        self.storageIo = storageIo
        self.io = io
        self.compute = compute
        self.price = price
        self.lowPriorityPrice = lowPriorityPrice
        self.processorInfo = processorInfo
        self.walltimeRequired = walltimeRequired
        self.remoteVizAllowed = remoteVizAllowed
    }
}
