import Diagnostics
import Testing

struct ExampleError: LienThongError {
    var errorCode: String { "EXAMPLE-BROKEN" }
    var message: String { "it broke; try again" }
    var description: String { report }
}

struct ExampleErrorWithCause: LienThongError {
    var errorCode: String { "EXAMPLE-IO" }
    var message: String { "cannot read the file" }
    var cause: String? { "No such file or directory" }
    var description: String { report }
}

@Suite struct LienThongErrorTests {
    @Test func reportsCodeMessageAndCause() {
        #expect("\(ExampleError())" == "[EXAMPLE-BROKEN] it broke; try again")
        #expect(ExampleError().cause == nil)
        #expect("\(ExampleErrorWithCause())" == "[EXAMPLE-IO] cannot read the file (cause: No such file or directory)")
        let any: any Error = ExampleErrorWithCause()
        #expect((any as? any LienThongError)?.errorCode == "EXAMPLE-IO")
    }

    @Test func caseNamesBecomeCodeWords() {
        #expect(errorCodeWord("unknownOrigin") == "UNKNOWN-ORIGIN")
        #expect(errorCodeWord("expired") == "EXPIRED")
        #expect(errorCodeWord("badClock") == "BAD-CLOCK")
    }
}
