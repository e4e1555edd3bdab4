/// Where each part of the image store lives under tetherd's `--root` (`/var/lib/tether/images` by default).
/// Every file is published by rename, so a crash at any point leaves either the old or the new state:
///
/// | path | what |
/// |---|---|
/// | `blobs/sha256/<hex>` | content: manifests, configs, compressed layers; renamed in only after digest and size match |
/// | `ingest/<hex>` | a blob being downloaded (kept for a resumed pull; GC removes one older than a day) |
/// | `snapshots/<chain-id hex>/` | one unpacked layer, as an overlay lowerdir; renamed in from `snapshots/tmp-*` when whole |
/// | `snapshots/<chain-id hex>.lock` | held while that layer is unpacked, so a concurrent pull waits instead of unpacking twice |
/// | `images/<manifest hex>.json` | an `ImageRecord`: what one pulled or loaded image is made of |
/// | `repositories.json` | `Repositories`: name:tag → manifest digest |
/// | `lock` | shared by a pull or load for its whole run, exclusive for GC (which skips a round rather than wait) |
/// | `repositories.lock` | exclusive around each read-modify-rename of repositories.json |
public struct StoreLayout: Sendable, Equatable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// The store under a tetherd `--root`.
    public init(daemonRoot: String) {
        self.root = daemonRoot + "/images"
    }

    public var blobsDirectory: String { root + "/blobs/sha256" }
    public var ingestDirectory: String { root + "/ingest" }
    public var snapshotsDirectory: String { root + "/snapshots" }
    public var imagesDirectory: String { root + "/images" }
    public var repositoriesFile: String { root + "/repositories.json" }
    public var storeLock: String { root + "/lock" }
    public var repositoriesLock: String { root + "/repositories.lock" }

    public func blob(_ digest: Digest) -> String { blobsDirectory + "/" + digest.hex }
    public func ingest(_ digest: Digest) -> String { ingestDirectory + "/" + digest.hex }
    /// The directory used as one overlay lowerdir: the layer whose chain id is `chainID`.
    public func snapshot(_ chainID: Digest) -> String { snapshotsDirectory + "/" + chainID.hex }
    public func snapshotLock(_ chainID: Digest) -> String { snapshotsDirectory + "/" + chainID.hex + ".lock" }
    public func imageRecord(_ manifest: Digest) -> String { imagesDirectory + "/" + manifest.hex + ".json" }

    /// Every directory the store needs, parents first (0700: only root reads images it has not been asked to share).
    public var directories: [String] { [root, root + "/blobs", blobsDirectory, ingestDirectory, snapshotsDirectory, imagesDirectory] }
}
