/// What one image in the store is made of, written by the pull or load that completed it (after every blob and
/// snapshot it names is in place) and read by tetherd to run, list and collect it. The JSON lives at
/// `StoreLayout.imageRecord(manifest)`.
public struct ImageRecord: Codable, Sendable, Equatable {
    /// The manifest's digest: the image's identity in the store (what `rmi sha256:...` and containers refer to).
    public var manifest: Digest
    /// The index or manifest list it was chosen from, when the reference named one (kept so GC keeps it).
    public var index: Digest?
    public var config: Digest
    /// The compressed layer blobs, bottom first.
    public var layers: [Descriptor]
    /// The layers' uncompressed digests (the config's rootfs.diff_ids), bottom first.
    public var diffIDs: [Digest]
    /// chainID(n) = diffID(0) for n = 0, sha256(chainID(n-1) + " " + diffID(n)) after: the snapshot of layer n.
    public var chainIDs: [Digest]
    /// The config's `created` (RFC 3339), shown by `images`.
    public var created: String?
    /// Unpacked bytes of all its snapshots, shown by `images` as SIZE.
    public var size: Int64

    public init(manifest: Digest, index: Digest? = nil, config: Digest, layers: [Descriptor], diffIDs: [Digest], chainIDs: [Digest],
                created: String?, size: Int64) {
        self.manifest = manifest
        self.index = index
        self.config = config
        self.layers = layers
        self.diffIDs = diffIDs
        self.chainIDs = chainIDs
        self.created = created
        self.size = size
    }

    /// The docker image id: the config's digest.
    public var imageID: Digest { config }
}

/// The names of the images in the store: `repository:tag` (normalised, as `ImageReference.description` without a
/// digest) → the manifest digest it points at. An image with no name left is dangling.
public struct Repositories: Codable, Sendable, Equatable {
    public var tags: [String: Digest]

    public init(tags: [String: Digest] = [:]) {
        self.tags = tags
    }
}
