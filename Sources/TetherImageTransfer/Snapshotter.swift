import TetherImage

/// PLACEHOLDER until the unpack work lands: the signature the pull and load build on.
public struct Snapshotter {
    public let store: ImageStore

    public init(store: ImageStore) {
        self.store = store
    }

    /// Unpacks each layer whose snapshot is not there yet, bottom first, into `snapshots/<chain id>` (a concurrent
    /// unpack of the same layer is waited for); returns the chain ids and the unpacked bytes of all the layers.
    public func prepare(layers: [Descriptor], diffIDs: [Digest]) throws -> (chainIDs: [Digest], size: Int64) {
        throw ImageError(.unsupported, "layer unpacking is not built yet", stage: "unpack")
    }
}
