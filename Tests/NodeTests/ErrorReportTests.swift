import Control
import Diagnostics
import EdXML
import Envelope
import Gate
import Node
import SodiumKit
import Spool
import Testing
import Topology
import Wire

/// Every module's error is a `LienThongError`, and the control socket reports its code, message
/// and cause as fields, taken from the error, never parsed from its description.
@Suite struct ErrorReportTests {
    /// `MODULE-WORD[-WORD…]`, upper case.
    static func shaped(_ code: String) -> Bool {
        code.wholeMatch(of: #/[A-Z]+(-[A-Z0-9]+)+/#) != nil
    }

    @Test func everyModuleErrorHasAStableCodeAMessageAndItsCause() throws {
        let errors: [any Error] = [
            SodiumError(.keyFileIO, "cannot read the key", cause: "Permission denied"),
            EnvelopeError(.badMagic, "not an envelope", cause: "first bytes 00 00"),
            TopologyError(.io, "cannot read topology.json", cause: "No such file or directory"),
            SpoolError(.io, "cannot write the spool", cause: "SQLite 13: database or disk is full"),
            WireError(.badPreamble, "not a LienThong peer"),
            ControlError(.malformed, "the request is not JSON"),
            EdXMLError(.malformed, "unclosed element", line: 3, column: 7, cause: "libxml2 76"),
            IngressError(.unknownOrigin, "envelope comes from a node not in the topology"),
            NodeError(.trackNotFound, "this node sent no document with id 3fa2c1", cause: "none"),
        ]
        for error in errors {
            let e = try #require(error as? any LienThongError, "\(type(of: error)) is not a LienThongError")
            #expect(Self.shaped(e.errorCode), "\(e.errorCode)")
            #expect("\(error)".hasPrefix("[\(e.errorCode)] "), "\(error)")
            let failure = try #require(ControlResponse.failure(error).error)
            #expect(failure == ControlFailure(code: e.errorCode, message: e.message, cause: e.cause))
        }
        #expect((errors[7] as? IngressError)?.errorCode == "INGRESS-UNKNOWN-ORIGIN")
        #expect(ControlResponse.failure(errors[3]).error?.cause == "SQLite 13: database or disk is full")
    }

    @Test func anErrorOfNoModuleIsReportedAsANodeError() throws {
        struct Unexpected: Error {}
        let failure = try #require(ControlResponse.failure(Unexpected()).error)
        #expect(failure.code == "NODE-ERROR" && failure.cause == nil)
    }

    @Test func aCauseTravelsAsAFieldAndIsLeftOutWhenThereIsNone() throws {
        let with = try ControlCodec.encode(.failure(SpoolError(.io, "cannot write", cause: "disk full")))
        #expect(String(decoding: with, as: UTF8.self).contains(#""cause":"disk full""#))
        let without = try ControlCodec.encode(.failure(WireError(.badPreamble, "not a peer")))
        #expect(!String(decoding: without, as: UTF8.self).contains("cause"))
    }

    @Test func nodeErrorCodesAreAllShapedAndDistinct() {
        let codes = NodeError.Code.allCases.map(\.rawValue)
        #expect(Set(codes).count == codes.count)
        for code in codes { #expect(Self.shaped(code), "\(code)") }
    }
}
