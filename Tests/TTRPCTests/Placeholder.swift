import Testing
@testable import TTRPC
