/// The JSON documents of an image, as the OCI image spec and docker's schema 2 define them (the two share a shape;
/// `mediaType` tells them apart). Unknown members are ignored, so a newer document still decodes.

/// A pointer to content: its type, digest and size (and, in an index, the platform it is for).
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var platform: Platform?
    public var annotations: [String: String]?

    public init(mediaType: String, digest: Digest, size: Int64, platform: Platform? = nil, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
    }
}

public struct Platform: Codable, Hashable, Sendable {
    public var architecture: String
    public var os: String
    public var variant: String?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
    }

    public init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }

    /// The one platform this store runs: linux/amd64.
    public static let host = Platform(architecture: "amd64", os: "linux")
}

/// An OCI image index or a docker manifest list.
public struct ImageIndex: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(schemaVersion: Int = 2, mediaType: String? = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    /// The manifest for `platform` (linux/amd64), or nil.
    public func manifest(for platform: Platform = .host) -> Descriptor? {
        manifests.first { $0.platform?.os == platform.os && $0.platform?.architecture == platform.architecture }
    }
}

/// An OCI image manifest or a docker v2 schema 2 manifest.
public struct ImageManifest: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(schemaVersion: Int = 2, mediaType: String? = MediaType.ociManifest, config: Descriptor, layers: [Descriptor],
                annotations: [String: String]? = nil) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// The image configuration blob: what to run and the layers' uncompressed digests.
public struct ImageConfiguration: Codable, Sendable {
    public struct RunConfig: Codable, Sendable, Equatable {
        public var User: String?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var WorkingDir: String?
        public var Labels: [String: String]?
        public var StopSignal: String?
        public var ExposedPorts: [String: EmptyObject]?
        public var Volumes: [String: EmptyObject]?

        public init(User: String? = nil, Env: [String]? = nil, Entrypoint: [String]? = nil, Cmd: [String]? = nil,
                    WorkingDir: String? = nil, Labels: [String: String]? = nil, StopSignal: String? = nil) {
            self.User = User
            self.Env = Env
            self.Entrypoint = Entrypoint
            self.Cmd = Cmd
            self.WorkingDir = WorkingDir
            self.Labels = Labels
            self.StopSignal = StopSignal
        }
    }

    public struct EmptyObject: Codable, Sendable, Equatable {
        public init() {}
    }

    public struct RootFS: Codable, Sendable {
        public var type: String
        public var diff_ids: [Digest]

        public init(type: String = "layers", diff_ids: [Digest]) {
            self.type = type
            self.diff_ids = diff_ids
        }
    }

    public struct History: Codable, Sendable {
        public var created: String?
        public var created_by: String?
        public var empty_layer: Bool?
    }

    public var created: String?
    public var architecture: String
    public var os: String
    public var config: RunConfig?
    public var rootfs: RootFS
    public var history: [History]?

    public init(created: String? = nil, architecture: String = "amd64", os: String = "linux", config: RunConfig? = nil, rootfs: RootFS) {
        self.created = created
        self.architecture = architecture
        self.os = os
        self.config = config
        self.rootfs = rootfs
    }
}
