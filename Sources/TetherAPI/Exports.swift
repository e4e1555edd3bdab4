// Users of the generated API need SwiftProtobuf's runtime and well-known types (Any, Empty, Timestamp).
@_exported import SwiftProtobuf
