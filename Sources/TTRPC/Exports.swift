// Every user of this module speaks SwiftProtobuf messages (and google.protobuf.Empty/Any/Timestamp).
@_exported import SwiftProtobuf
